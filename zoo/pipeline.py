"""`zoo pipeline`: the main job, each stage a `zoo` subcommand run as a user would run it by hand.

Every stage writes into one run folder; a finished stage is skipped on rerun (same command line, same
config contents); a failed stage is named with its exit code and log, the stages that need it are
skipped, and the others run to the end.
Independent stages run side by side (`parallel`), each with its share of the CPU threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zoo
from zoo.config_files import configs_root
from zoo.data.writing import write_json_atomic
from zoo.progress import ENV as PROGRESS_ENV
from zoo.progress import eta_seconds, read_progress

CONFIGS = configs_root()  # the repository's configs/, or the copy installed with the package


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: a `zoo` command line, what it is for, and the stages it needs."""

    name: str
    argv: list[str]
    summary: str
    after: tuple[str, ...] = ()


class StageFailed(RuntimeError):
    """A stage exited with an error."""


def _flags(args: dict[str, Any]) -> list[str]:
    flags = []
    for key, value in args.items():
        flags.append(f"--{key}")
        flags.append(json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value))
    return flags


def _fit(config: str, out: Path, export: str, **overrides: Any) -> list[str]:
    """`zoo fit` of a shipped config with its outputs (logs, checkpoints, config as run, export) under `out`."""
    argv = ["fit", "-c", str(CONFIGS / config), "--trainer.default_root_dir", str(out),
            "--trainer.logger.init_args.save_dir", str(out), "--trainer.enable_progress_bar", "false",
            "--model.init_args.export_dir", str(out / export)]
    for key, value in overrides.items():
        argv += [f"--{key.replace('__', '.')}", "null" if value is None else str(value)]
    return argv


def plan(run_dir: Path, data: dict[str, Any], bench_count: int = 256, construct_prompts: int = 1000) -> list[Stage]:
    """The stages of the embedded-default pipeline for a run folder."""
    d, r = run_dir / "data", run_dir
    pairs = {"data__init_args__train": d / "pairs/train-*.tar", "data__init_args__val": d / "pairs/val-*.tar",
             "data__init_args__test": None}
    pretrain = {**pairs, "data__init_args__val": None}
    prompts = {"data__init_args__train": d / "prompts/train-*.tar", "data__init_args__val": d / "prompts/val-*.tar"}
    spatialscore = r / "reward/spatialscore/scorer"
    grpo = {**prompts, "model__init_args__init_from": r / "sft/policy"}
    # rendered pairs and the SFT policy's own (about a third of the samples): shards are drawn uniformly,
    # so the 5 small generated shards are listed 13 times beside the 20 rendered ones
    mixture = [str(d / "pairs/train-*.tar")] + [str(d / "generated/train-*.tar")] * 13

    def bench(name: str, config: str, weights: Path, after: str) -> Stage:
        return Stage(f"bench_{name}", ["bench", str(d / "prompts/test-*.tar"), "--out", str(r / "bench" / name),
                                       "--experiment", str(CONFIGS / config), "--weights", str(weights),
                                       "--count", str(bench_count), "--scorer", str(spatialscore)],
                     f"SpatialBench (held-out prompts, verified from pixels) of {name}", (after, "reward"))

    return [
        Stage("data", ["data", "spatial", "--out", str(d), *_flags(data)], "SpatialShapes pair and prompt shards"),
        Stage("check", ["data", "inspect", str(d / "pairs/val-*.tar"), "--verify", "true", "--show", "4",
                        "--sheet", str(d / "val_pairs.png"), "--out", str(r / "stages/check_summary.json")],
              "validation pairs re-read and checked against world.md from their pixels", ("data",)),
        Stage("reward_pretrain", _fit("pretrain/tiny_qwen2_5_vl.yaml", r / "reward/pretrain", "backbone", **pretrain),
              "caption pretraining of the tiny Qwen2.5-VL backbone", ("data",)),
        Stage("sft", _fit("sft/tiny_flux.yaml", r / "sft", "policy", **pairs),
              "flow-matching SFT of the tiny Flux policy (the GRPO starting point)", ("data",)),
        Stage("construct", ["data", "construct", str(d / "prompts/train-*.tar"), "--out", str(d / "generated"),
                            "--experiment", str(CONFIGS / "sft/tiny_flux.yaml"), "--weights", str(r / "sft/policy"),
                            "--rule", "ranked", "--noise_level", "0.7", "--count", str(construct_prompts)],
              "preference pairs from the SFT policy's own images, judged by the verifier", ("sft",)),
        Stage("reward", _fit("reward/tiny_qwen2_5_vl.yaml", r / "reward/spatialscore", "scorer", **{
            **pairs, "data__init_args__train": json.dumps(mixture)},
            model__init_args__init_from=r / "reward/pretrain/backbone"),
              "SpatialScore: Bradley-Terry on rendered and policy-image pairs", ("reward_pretrain", "construct")),
        Stage("grpo_verifier", _fit("grpo/tiny_verifier.yaml", r / "grpo_verifier", "policy", **grpo),
              "GRPO with the verifier as reward (Flow-GRPO* analogue)", ("sft",)),
        Stage("grpo_spatialscore", _fit("grpo/tiny_spatialscore.yaml", r / "grpo_spatialscore", "policy", **grpo,
                                        model__init_args__reward__init_args__folder=spatialscore),
              "GRPO with SpatialScore as reward", ("sft", "reward")),
        Stage("clip_pretrain", _fit("pretrain/tiny_clip.yaml", r / "reward/clip_pretrain", "backbone", **pretrain),
              "contrastive pretraining of the CLIP-style baseline", ("data",)),
        Stage("clip_reward", _fit("reward/tiny_clip.yaml", r / "reward/clip", "scorer", **pairs,
                                  model__init_args__init_from=r / "reward/clip_pretrain/backbone"),
              "the CLIP-style reward baseline: Bradley-Terry", ("clip_pretrain",)),
        Stage("reward_table", ["reward", "table", str(d / "pairs/test-*.tar"), "--scorers",
                               json.dumps([f"SpatialScore (tiny Qwen2.5-VL)={spatialscore}",
                                           f"CLIP-style baseline={r / 'reward/clip/scorer'}"]),
                               "--untrained", '["qwen2_5_vl"]', "--out", str(r / "reward/table.json")],
              "reward accuracy on held-out pairs by perturbation bucket", ("reward", "clip_reward")),
        bench("sft", "sft/tiny_flux.yaml", r / "sft/policy", "sft"),
        bench("grpo_verifier", "grpo/tiny_verifier.yaml", r / "grpo_verifier/policy", "grpo_verifier"),
        bench("grpo_spatialscore", "grpo/tiny_spatialscore.yaml", r / "grpo_spatialscore/policy", "grpo_spatialscore"),
        Stage("report", ["report", str(r)], "report.md: the tables and the reward/KL plots",
              ("reward_table", "bench_sft", "bench_grpo_verifier", "bench_grpo_spatialscore")),
    ]


def config_digest(argv: list[str]) -> str:
    """SHA-256 of the config files a command line reads (`-c FILE`, `--experiment FILE`) and of the YAML files
    they name relative to themselves (`data: ../data/x.yaml`): editing a config makes its stage run again."""
    digest = hashlib.sha256()
    for flag, value in zip(argv, argv[1:]):
        path = Path(value)
        if flag in ("-c", "--config", "--experiment") and path.is_file():
            text = path.read_text()
            digest.update(text.encode())
            for name in sorted(set(re.findall(r"[\w./-]+\.ya?ml", text))):
                if (path.parent / name).is_file():
                    digest.update((path.parent / name).read_bytes())
    return digest.hexdigest()


def code_version() -> dict[str, Any]:
    """The zoo version and, when it runs from a git checkout, the commit and whether files differ from it."""
    out: dict[str, Any] = {"version": zoo.__version__}
    root = Path(zoo.__file__).resolve().parents[1]
    if (root / ".git").exists():
        try:
            git = ["git", "-C", str(root)]
            out["commit"] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                                           timeout=10, check=True).stdout.strip()
            changed = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                     text=True, timeout=10, check=True).stdout
            out["dirty"] = bool(changed.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    return out


def _finished(stage: Stage, run_dir: Path, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The stage's record when it finished earlier with the same command, configs and inputs: the runs of the stages
    it needs (`inputs`, their run ids) must be the ones it was run after, else it is stale and runs again."""
    marker = run_dir / "stages" / f"{stage.name}.json"
    if marker.exists():
        record = json.loads(marker.read_text())
        if (record.get("status") == "done" and record.get("argv") == stage.argv
                and record.get("configs", config_digest(stage.argv)) == config_digest(stage.argv)
                and record.get("inputs", inputs) == inputs):  # records from before inputs were kept: as they are
            return record
    return None


def _inputs(stage: Stage, records: dict[str, dict]) -> dict[str, Any]:
    """The run ids of the stages `stage` needs (None for a record that has none)."""
    return {name: records[name].get("run_id") for name in stage.after}


def stage_status(name: str, elapsed: float, progress: dict[str, Any] | None,
                 first: tuple[float, float] | None) -> str:
    """`name 95 s 120/400 rollout ETA 3.5 min`: elapsed seconds, the progress the stage last reported (if any) and
    the time left at the rate since its `first` (time, done) report."""
    text = f"{name} {elapsed:.0f} s"
    if not progress or not progress.get("done"):
        return text
    total, unit = progress.get("total"), progress.get("unit") or ""
    text += f" {progress['done']:g}" + (f"/{total:g}" if total else "") + (f" {unit}" if unit else "")
    eta = eta_seconds(first, (progress["time"], float(progress["done"])), total) if first else None
    return text + (f" ETA {eta / 60:.1f} min" if eta is not None else "")


class _Running:
    """A stage's process, its log and its start time."""

    def __init__(self, stage: Stage, run_dir: Path, threads: int, inputs: dict[str, Any]) -> None:
        self.stage, self.run_dir, self.inputs = stage, run_dir, inputs
        self.log_path = run_dir / "logs" / f"{stage.name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")
        self.progress_path = run_dir / "stages" / f"{stage.name}.progress.json"
        self.progress_path.unlink(missing_ok=True)
        self.first_progress: tuple[float, float] | None = None
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               PROGRESS_ENV: str(self.progress_path)}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", *stage.argv], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def status(self, now: float) -> str:
        """`name elapsed N/M unit ETA` from the stage's progress file."""
        progress = read_progress(self.progress_path)
        if progress and progress.get("done") and self.first_progress is None:
            self.first_progress = (progress["time"], float(progress["done"]))
        return stage_status(self.stage.name, now - self.started, progress, self.first_progress)

    def finish(self) -> dict[str, Any]:
        """Write the stage's marker; raise StageFailed if it exited with an error."""
        self.log.close()
        self.progress_path.unlink(missing_ok=True)
        seconds, code = time.perf_counter() - self.started, self.proc.returncode
        record = {"stage": self.stage.name, "argv": self.stage.argv, "configs": config_digest(self.stage.argv),
                  "run_id": time.time_ns(), "inputs": self.inputs, "code": code_version(), "seconds": round(seconds, 2),
                  "log": str(self.log_path), "status": "done" if code == 0 else "failed", "exit_code": code}
        write_json_atomic(self.run_dir / "stages" / f"{self.stage.name}.json", record)
        if code != 0:
            tail = "".join(self.log_path.read_text().splitlines(keepends=True)[-15:])
            raise StageFailed(f"stage {self.stage.name!r} failed with exit code {code} after {seconds:.1f} s; "
                              f"log: {self.log_path}\n{tail}")
        return record


def run_stages(stages: list[Stage], run_dir: Path, parallel: int = 1, threads: int | None = None) -> dict[str, dict]:
    """Run the stages in order of their needs, up to `parallel` at a time; returns each stage's record.

    A stage starts when every stage it needs is done; one that failed blocks its dependents only. A finished stage
    is skipped unless its command, its configs or the runs of the stages it needs changed (a stage that ran again
    makes its dependents run again, so a report never shows outputs older than its inputs).
    """
    threads = threads or max(1, (os.cpu_count() or 1) // max(parallel, 1))
    records: dict[str, dict] = {}
    pending, running, failed = list(stages), [], []
    total, started, minute = len(stages), time.perf_counter(), -1
    while pending or running:
        for stage in list(pending):
            blocked = [n for n in stage.after if n in failed or records.get(n, {}).get("status") == "blocked"]
            if blocked:
                pending.remove(stage)
                records[stage.name] = {"stage": stage.name, "status": "blocked", "by": blocked}
                print(f"[{len(records)}/{total}] {stage.name}: not run, needs {', '.join(blocked)}", flush=True)
            elif all(records.get(n, {}).get("status") == "done" for n in stage.after):
                done = _finished(stage, run_dir, _inputs(stage, records))
                if done is not None:
                    pending.remove(stage)
                    records[stage.name] = done
                    print(f"[{len(records)}/{total}] {stage.name}: skipped, finished earlier "
                          f"({done['seconds']:.1f} s)", flush=True)
                elif len(running) < parallel:
                    pending.remove(stage)
                    print(f"[start] {stage.name}: {stage.summary}\n    zoo {shlex.join(stage.argv)}", flush=True)
                    running.append(_Running(stage, run_dir, threads, _inputs(stage, records)))
        for job in [j for j in running if j.proc.poll() is not None]:
            running.remove(job)
            try:
                records[job.stage.name] = job.finish()
                print(f"[{len(records)}/{total}] {job.stage.name}: done in {records[job.stage.name]['seconds']:.1f} s",
                      flush=True)
            except StageFailed as err:
                failed.append(job.stage.name)
                records[job.stage.name] = {"stage": job.stage.name, "status": "failed", "log": str(job.log_path)}
                print(f"[{len(records)}/{total}] {err}", file=sys.stderr, flush=True)
        if running:
            minute = _ticker(running, time.perf_counter() - started, minute)
            time.sleep(1.0)
    return records


def _ticker(running: list[_Running], elapsed: float, minute: int) -> int:
    """One status line, rewritten in place on a terminal (once a minute otherwise); returns the minute shown."""
    now = time.perf_counter()
    line = f"  {elapsed / 60:5.1f} min | " + " | ".join(j.status(now) for j in running)
    if sys.stdout.isatty():
        print("\r" + line[:150].ljust(150), end="", flush=True)
    elif int(elapsed // 60) != minute:
        print(line, flush=True)
    return int(elapsed // 60)


def pipeline(run_dir: Path = Path("runs/spatialshapes"), data: dict[str, Any] = {}, rerun: list[str] = [],
             parallel: int = 2, bench_count: int = 256, stages: list[str] | None = None,
             overrides: dict[str, list[str]] = {}, construct_prompts: int = 1000) -> dict:
    """Run the whole method on the embedded default, stage by stage, into one run folder.

    Args:
        run_dir: the run folder (data, checkpoints, logs, reports).
        data: options of `zoo data spatial` (train, val, test, image_size, seed, ...).
        rerun: stage names to run again even if they finished.
        parallel: stages run side by side when their inputs are ready (each gets cpu_count / parallel threads).
        bench_count: held-out prompts per SpatialBench run.
        stages: run only these stages (and skip the rest), e.g. ["data", "check"].
        overrides: extra arguments per stage, e.g. {"grpo_spatialscore": ["--trainer.max_steps", "100"]}.
        construct_prompts: training prompts the SFT policy draws for the reward's policy-image pairs.
    """
    run_dir = Path(run_dir)
    planned = plan(run_dir, dict(data), bench_count, construct_prompts)
    names = [s.name for s in planned]
    planned = [Stage(s.name, s.argv + [str(a) for a in overrides.get(s.name, [])], s.summary, s.after)
               for s in planned]
    unknown = (set(rerun) | set(stages or []) | set(overrides)) - set(names)
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}; stages are {names}")
    if stages is not None:
        planned = [s for s in planned if s.name in stages]
        planned = [Stage(s.name, s.argv, s.summary, tuple(a for a in s.after if a in stages)) for s in planned]
    for name in rerun:
        (run_dir / "stages" / f"{name}.json").unlink(missing_ok=True)
    started = time.perf_counter()
    records = run_stages(planned, run_dir, parallel)
    total = time.perf_counter() - started
    bad = [n for n, r in records.items() if r["status"] != "done"]
    write_json_atomic(run_dir / "pipeline.json", {"seconds": round(total, 1), "stages": records})
    if bad:
        print(f"pipeline stopped after {total:.1f} s: {', '.join(bad)} did not finish (see {run_dir / 'logs'}); "
              "finished stages are kept and skipped on rerun", file=sys.stderr, flush=True)
        raise SystemExit(1)
    report = run_dir / "report.md"
    if report.exists() and "report" in records:
        print(report.read_text())
    print(f"pipeline finished in {total:.1f} s ({total / 60:.1f} min); run folder {run_dir}"
          + (f"; report {report}" if report.exists() else ""))
    return {"run_dir": str(run_dir), "seconds": total, "stages": records}
