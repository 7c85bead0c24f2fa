"""RL algorithms side by side on the embedded world: Flow-GRPO, Flow-GRPO-Fast and DiffusionNFT, each with SpatialScore
and with the verifier as the reward, from one SFT policy, over seeds; SpatialBench (world v1.1, `zoo bench`) on held-out
prompts; CPU minutes to each run's best held-out point; whether DiffusionNFT reaches Flow-GRPO's best held-out
relations in at most half Flow-GRPO's time.

Every run is a `zoo fit` of a shipped config (configs/grpo/tiny_*.yaml, configs/nft/tiny_*.yaml) and every evaluation a
`zoo bench`, run as stages of `zoo pipeline` (logs, resumable: finished runs are skipped). Prints a table and writes JSON.

    python benchmarks/rl_algorithms.py --sft runs/spatialshapes/sft/policy --data runs/spatialshapes/data \\
        --scorer runs/spatialshapes/reward/spatialscore/scorer --seeds 0 1 2 --count 256 --guard true \\
        --out benchmarks/results/rl_algorithms.json

Columns: relations (the v1.1 relation score, SpatialBench "Overall"), right-shape objects ("objects found"), clutter;
means over seeds with their spread; minutes to best = the run's rollout + reward + update seconds (rl_stats.jsonl)
up to its best validation (val_stats.jsonl: the same verifier on the validation prompts), 0 when the start is best.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zoo.data.writing import write_json_atomic  # noqa: E402
from zoo.pipeline import CONFIGS, Stage, fit_argv, run_stages  # noqa: E402

ALGORITHMS = {"Flow-GRPO": "grpo/tiny_{reward}.yaml", "Flow-GRPO-Fast": "grpo/tiny_fast_{reward}.yaml",
              "DiffusionNFT": "nft/tiny_{reward}.yaml"}
REWARDS = ("spatialscore", "verifier")
COLUMNS = {"relations": "Overall", "right-shape objects": "objects found", "clutter": "clutter"}
GUARD = {"class_path": "callbacks.RewardHackingGuard",
         "init_args": {"metric": "val/relations", "patience": 2, "min_drop": 0.02, "action": "restore"}}


def run_name(algorithm: str, reward: str, seed: int) -> str:
    return f"{algorithm.lower().replace('-', '_')}_{reward}_seed{seed}"


def plan(args: argparse.Namespace) -> tuple[list[Stage], dict[str, dict[str, Any]]]:
    """The fit and bench stages, and what each run is (algorithm, reward, seed, folders)."""
    data, runs, stages, meta = Path(args.data), Path(args.run_dir), [], {}
    first = ALGORITHMS[args.algorithms[0]].format(reward=args.rewards[0])
    for seed in args.seeds:  # the starting point: the SFT policy itself
        name = f"sft_seed{seed}"
        stages.append(bench_stage(name, first, Path(args.sft), None, data, runs, args, seed))
        meta[name] = {"algorithm": "SFT policy", "reward": "-", "seed": seed, "dir": None}
    for seed in args.seeds:  # seed by seed, so that a run cut short holds whole seeds
        for algorithm in args.algorithms:
            for reward in args.rewards:
                config = ALGORITHMS[algorithm].format(reward=reward)
                name = run_name(algorithm, reward, seed)
                out = runs / name
                overrides: dict[str, Any] = {
                    "seed_everything": seed, "model__init_args__seed": seed,
                    "model__init_args__init_from": Path(args.sft).resolve(),
                    "data__init_args__train": data / "prompts/train-*.tar",
                    "data__init_args__val": data / "prompts/val-*.tar"}
                if reward == "spatialscore":
                    overrides["model__init_args__reward__init_args__folder"] = Path(args.scorer).resolve()
                elif args.objects_weight is not None:
                    overrides["model__init_args__reward__init_args__objects_weight"] = args.objects_weight
                for key in ("max_steps", "val_check_interval", "limit_val_batches"):
                    if getattr(args, key) is not None:
                        overrides[f"trainer__{key}"] = getattr(args, key)
                for key in ("batch_size", "group_size"):
                    if getattr(args, key) is not None:
                        overrides[f"data__init_args__{key}"] = getattr(args, key)
                argv = fit_argv(str(CONFIGS / config), out, "policy",
                                {k.replace("__", "."): v for k, v in overrides.items()})
                if args.guard:
                    argv.append("--trainer.callbacks+=" + json.dumps(GUARD))
                stages.append(Stage(f"fit_{name}", argv, f"{algorithm} with the {reward} reward, seed {seed}"))
                stages.append(bench_stage(name, config, out / "policy", f"fit_{name}", data, runs, args, seed))
                meta[name] = {"algorithm": algorithm, "reward": reward, "seed": seed, "dir": str(out)}
    return stages, meta


def bench_stage(name: str, config: str, weights: Path, after: str | None, data: Path, runs: Path,
                args: argparse.Namespace, seed: int) -> Stage:
    argv = ["bench", str(data / "prompts/test-*.tar"), "--out", str(runs / "bench" / name), "--experiment",
            str(CONFIGS / config), "--weights", str(weights), "--count", str(args.count), "--seed", str(seed),
            "--steps", str(args.bench_steps)]
    return Stage(f"bench_{name}", argv, f"SpatialBench of {name} on held-out prompts", (after,) if after else ())


def _jsonl(run_dir: Path, name: str) -> list[dict]:
    files = sorted(run_dir.glob(f"**/{name}"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]


def curve(run_dir: Path) -> dict[str, Any]:
    """The run's held-out curve: (step, relations, training minutes so far) per validation; its best point."""
    stats, vals = _jsonl(run_dir, "rl_stats.jsonl"), _jsonl(run_dir, "val_stats.jsonl")
    seconds = {row["step"]: sum(row.get(k, 0.0) for k in ("time_rollout", "time_reward", "time_update"))
               for row in stats}

    def minutes(step: int) -> float:
        return sum(s for k, s in seconds.items() if k <= step) / 60

    points = [(v["step"], v["relations"], minutes(v["step"])) for v in vals if "relations" in v]
    best = max(points, key=lambda p: (p[1], -p[0])) if points else None
    guard = next(iter(sorted(run_dir.glob("**/guard.json"))), None)
    return {"points": points, "best": best, "train_minutes": minutes(10**12),
            "guard": json.loads(guard.read_text()) if guard else None}


def time_to_reach(points: list[tuple[int, float, float]], target: float) -> float | None:
    """Minutes until the held-out relations first reach `target` (None if never)."""
    return next((m for _, r, m in points if r >= target), None)


def summarise(meta: dict[str, dict], runs: Path) -> dict[str, Any]:
    per_run = {}
    for name, info in meta.items():
        summary_path = runs / "bench" / name / "summary.json"
        if not summary_path.is_file():
            continue
        table = json.loads(summary_path.read_text())["table"]
        row = {**info, **{c: table.get(k) for c, k in COLUMNS.items()}}
        if info["dir"]:
            row["curve"] = curve(Path(info["dir"]))
            best = row["curve"]["best"]
            row["minutes_to_best"] = best[2] if best else None
            row["best_val_relations"] = best[1] if best else None
        per_run[name] = row
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in per_run.values():
        groups.setdefault((row["algorithm"], row["reward"]), []).append(row)
    table = [{"algorithm": a, "reward": r, "seeds": len(rows), **{c: _spread([x.get(c) for x in rows]) for c in
                                                                  (*COLUMNS, "minutes_to_best")}}
             for (a, r), rows in groups.items()]
    return {"runs": per_run, "table": table, "nft_vs_grpo": nft_vs_grpo(per_run)}


def nft_vs_grpo(per_run: dict[str, dict]) -> list[dict]:
    """Per reward and seed: DiffusionNFT's minutes to Flow-GRPO's best held-out relations over Flow-GRPO's minutes
    to it (the claim to check: at most 0.5)."""
    out = []
    for grpo in (r for r in per_run.values() if r["algorithm"] == "Flow-GRPO" and r.get("curve")):
        nft = next((r for r in per_run.values() if r["algorithm"] == "DiffusionNFT" and r["reward"] == grpo["reward"]
                    and r["seed"] == grpo["seed"] and r.get("curve")), None)
        if nft is None or grpo["curve"]["best"] is None:
            continue
        target, grpo_minutes = grpo["curve"]["best"][1], grpo["curve"]["best"][2]
        nft_minutes = time_to_reach(nft["curve"]["points"], target)
        ratio = nft_minutes / grpo_minutes if nft_minutes is not None and grpo_minutes > 0 else None
        status = ("never reached" if nft_minutes is None else
                  "undefined: Flow-GRPO's best held-out point is its start" if grpo_minutes <= 0 else
                  f"{ratio:.2f} x Flow-GRPO's time")
        out.append({"reward": grpo["reward"], "seed": grpo["seed"], "grpo_best_val_relations": target,
                    "grpo_minutes": grpo_minutes, "nft_minutes_to_it": nft_minutes, "ratio": ratio,
                    "status": status})
    return out


def _spread(values: list) -> dict[str, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return {"mean": None, "sd": None}
    return {"mean": statistics.fmean(known), "sd": statistics.stdev(known) if len(known) > 1 else 0.0}


def markdown(result: dict[str, Any]) -> str:
    def cell(s: dict) -> str:
        return "" if s["mean"] is None else f"{s['mean']:.3f} ± {s['sd']:.3f}"

    lines = ["| algorithm | reward | seeds | relations | right-shape objects | clutter | minutes to best held-out |",
             "|---|---|---|---|---|---|---|"]
    for row in result["table"]:
        lines.append(f"| {row['algorithm']} | {row['reward']} | {row['seeds']} | {cell(row['relations'])} | "
                     f"{cell(row['right-shape objects'])} | {cell(row['clutter'])} | {cell(row['minutes_to_best'])} |")
    for c in result["nft_vs_grpo"]:
        lines.append(f"\nDiffusionNFT to Flow-GRPO's best held-out relations ({c['grpo_best_val_relations']:.3f}), "
                     f"{c['reward']}, seed {c['seed']}: {c['status']}")
    curves = [(name, row["curve"]) for name, row in result["runs"].items() if row.get("curve")]
    if curves:
        lines.append("\nHeld-out relations during training (validation prompts; optimizer step: relations @ minutes)")
    for name, c in curves:
        points = ", ".join(f"{step}: {rel:.3f} @ {minutes:.2f}" for step, rel, minutes in c["points"])
        lines.append(f"- {name}: {points}; training {c['train_minutes']:.2f} min")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sft", required=True, help="the SFT policy folder every run starts from")
    parser.add_argument("--data", required=True, help="SpatialShapes data folder (prompts/{train,val,test}-*.tar)")
    parser.add_argument("--scorer", help="SpatialScore scorer folder (needed for the spatialscore reward)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=list(ALGORITHMS))
    parser.add_argument("--rewards", nargs="+", default=list(REWARDS), choices=REWARDS)
    parser.add_argument("--count", type=int, default=256, help="held-out SpatialBench prompts")
    parser.add_argument("--bench_steps", type=int, default=8)
    parser.add_argument("--max_steps", type=int, help="optimizer steps (default: each config's)")
    parser.add_argument("--val_check_interval", type=int, help="rollouts between validations (default: config's)")
    parser.add_argument("--limit_val_batches", type=int)
    parser.add_argument("--batch_size", type=int, help="prompts x images per rollout (default: config's)")
    parser.add_argument("--group_size", type=int)
    parser.add_argument("--objects_weight", type=float,
                        help="the verifier reward's weight of objects found (default: the config's, 0: relations only; "
                             "a weak start policy that draws no relation gets no signal without it)")
    parser.add_argument("--guard", type=lambda s: s.lower() == "true", default=False,
                        help="true: add RewardHackingGuard (val/relations, restore) to every run")
    parser.add_argument("--run_dir", default="runs/rl_algorithms")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--threads", type=int, help="torch threads per stage (default: cores / parallel)")
    parser.add_argument("--out", default="benchmarks/results/rl_algorithms.json",
                        help="the JSON; the table goes beside it as .md")
    parser.add_argument("--note", default="", help="a line for the top of the .md (e.g. how the run was reduced)")
    args = parser.parse_args()
    if "spatialscore" in args.rewards and not args.scorer:
        parser.error("--scorer is needed for the spatialscore reward (or --rewards verifier)")
    stages, meta = plan(args)
    records = run_stages(stages, Path(args.run_dir), args.parallel, args.threads)
    result = summarise(meta, Path(args.run_dir))
    result["settings"] = {k: v for k, v in vars(args).items()}
    result["seconds"] = {name: r.get("seconds") for name, r in records.items()}
    failed = [n for n, r in records.items() if r.get("status") != "done"]
    result["failed_stages"] = failed
    write_json_atomic(Path(args.out), result)
    text = markdown(result)
    argv = [a for i, a in enumerate(sys.argv) if a != "--note" and (i == 0 or sys.argv[i - 1] != "--note")]
    header = ["# RL algorithms side by side", "", f"`python {shlex.join(argv)}`", ""]
    header += [args.note, ""] if args.note else []
    Path(args.out).with_suffix(".md").write_text("\n".join(header) + "\n" + text + "\n")
    print(text)
    print(f"\nwritten: {args.out}" + (f"; failed stages: {failed}" if failed else ""))


if __name__ == "__main__":
    main()
