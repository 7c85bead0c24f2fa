"""benchmarks/rl_algorithms.py: its runs are the shipped configs' `zoo fit` command lines, and it reads the records
RLStatsTracker writes into minutes to the best held-out point and DiffusionNFT's time to Flow-GRPO's best."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("rl_algorithms", ROOT / "benchmarks" / "rl_algorithms.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _args(tmp_path: Path, **kw) -> argparse.Namespace:
    base = dict(sft=str(tmp_path / "sft"), data=str(tmp_path / "data"), scorer=str(tmp_path / "scorer"), seeds=[0],
                algorithms=list(bench.ALGORITHMS), rewards=["verifier"], count=64, bench_steps=8, max_steps=8,
                val_check_interval=2, limit_val_batches=1, batch_size=None, group_size=None, guard=True, objects_weight=0.5,
                run_dir=str(tmp_path / "runs"))
    return argparse.Namespace(**{**base, **kw})


def test_the_plan_fits_each_shipped_config_and_benches_each_policy(tmp_path):
    stages, meta = bench.plan(_args(tmp_path))
    names = [s.name for s in stages]
    assert names[0] == "bench_sft_seed0" and len(stages) == 1 + 2 * len(bench.ALGORITHMS)
    for algorithm, config in bench.ALGORITHMS.items():
        name = bench.run_name(algorithm, "verifier", 0)
        fit = next(s for s in stages if s.name == f"fit_{name}")
        assert str(bench.CONFIGS / config.format(reward="verifier")) in fit.argv
        assert "--trainer.max_steps" in fit.argv and fit.argv[fit.argv.index("--trainer.max_steps") + 1] == "8"
        assert any(a.startswith("--trainer.callbacks+=") and "RewardHackingGuard" in a for a in fit.argv)
        assert fit.argv[fit.argv.index("--model.init_args.reward.init_args.objects_weight") + 1] == "0.5"
        assert next(s for s in stages if s.name == f"bench_{name}").after == (f"fit_{name}",)
        assert meta[name]["algorithm"] == algorithm


def _run(folder: Path, seconds_per_rollout: float, relations: dict[int, float]) -> None:
    """The two files RLStatsTracker writes: per rollout (2 optimizer steps) its seconds, per validation its scores."""
    log = folder / "tb" / "version_0"
    log.mkdir(parents=True)
    rows = [{"step": s, "rollout": s // 2, "time_rollout": seconds_per_rollout / 2, "time_reward": 0.0,
             "time_update": seconds_per_rollout / 2} for s in range(2, 21, 2)]
    (log / "rl_stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (log / "val_stats.jsonl").write_text("".join(json.dumps({"step": s, "relations": r, "found": 0.5}) + "\n"
                                                 for s, r in relations.items()))


def test_minutes_to_the_best_point_and_nft_against_grpo(tmp_path):
    runs = tmp_path / "runs"
    _run(runs / "grpo", 60.0, {0: 0.10, 10: 0.20, 20: 0.15})  # best at step 10: 5 rollouts of 60 s
    _run(runs / "nft", 30.0, {0: 0.10, 4: 0.12, 8: 0.21, 20: 0.18})  # 0.20 reached at step 8: 4 rollouts of 30 s
    grpo = bench.curve(runs / "grpo")
    assert grpo["best"] == (10, 0.20, pytest.approx(5.0)) and grpo["train_minutes"] == pytest.approx(10.0)
    per_run = {"g": {"algorithm": "Flow-GRPO", "reward": "verifier", "seed": 0, "curve": grpo},
               "n": {"algorithm": "DiffusionNFT", "reward": "verifier", "seed": 0, "curve": bench.curve(runs / "nft")}}
    [row] = bench.nft_vs_grpo(per_run)
    assert row["grpo_minutes"] == pytest.approx(5.0) and row["nft_minutes_to_it"] == pytest.approx(2.0)
    assert row["ratio"] == pytest.approx(0.4)
    per_run["n"]["curve"] = bench.curve(runs / "grpo") | {"points": [(0, 0.1, 0.0), (20, 0.19, 5.0)]}
    assert bench.nft_vs_grpo(per_run)[0]["ratio"] is None  # never reached
    assert "never reached" in bench.markdown({"table": [], "runs": per_run, "nft_vs_grpo": bench.nft_vs_grpo(per_run)})
    per_run["g"]["curve"] = grpo | {"best": (0, 0.1, 0.0)}  # Flow-GRPO never beat its start: no ratio to report
    assert bench.nft_vs_grpo(per_run)[0]["status"].startswith("undefined")


def test_the_summary_reads_bench_tables_of_trained_and_start_policies(tmp_path):
    args = _args(tmp_path, algorithms=["Flow-GRPO"])
    _, meta = bench.plan(args)
    runs = Path(args.run_dir)
    _run(runs / bench.run_name("Flow-GRPO", "verifier", 0), 60.0, {0: 0.10, 10: 0.20})
    for name, overall in (("sft_seed0", 0.1), (bench.run_name("Flow-GRPO", "verifier", 0), 0.3)):
        (runs / "bench" / name).mkdir(parents=True)
        (runs / "bench" / name / "summary.json").write_text(json.dumps(
            {"table": {"Overall": overall, "objects found": 0.5, "clutter": 0.01}}))
    result = bench.summarise(meta, runs)
    rows = {r["algorithm"]: r for r in result["table"]}
    assert rows["SFT policy"]["relations"]["mean"] == 0.1 and rows["SFT policy"]["minutes_to_best"]["mean"] is None
    assert rows["Flow-GRPO"]["relations"]["mean"] == 0.3 and rows["Flow-GRPO"]["minutes_to_best"]["mean"] == 5.0
    assert "| Flow-GRPO | verifier | 1 | 0.300" in bench.markdown(result)
