"""`zoo pipeline`: the main job, each stage a `zoo` subcommand run as a user would run it by hand.

Every stage writes into one run folder; a finished stage is skipped on rerun; a failed stage is
named with its exit code and log, and the outputs of the others stay intact.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.data.writing import write_json_atomic


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: a `zoo` command line and what it is for."""

    name: str
    argv: list[str]
    summary: str


class StageFailed(RuntimeError):
    """A stage exited with an error."""


def _flags(args: dict[str, Any]) -> list[str]:
    flags = []
    for key, value in args.items():
        flags.append(f"--{key}")
        flags.append(json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value))
    return flags


def plan(run_dir: Path, data: dict[str, Any]) -> list[Stage]:
    """The stages of the embedded-default pipeline for a run folder."""
    data_dir = run_dir / "data"
    return [
        Stage("data", ["data", "spatial", "--out", str(data_dir), *_flags(data)],
              "SpatialShapes pair and prompt shards"),
        Stage("check", ["data", "inspect", str(data_dir / "pairs" / "val-*.tar"), "--verify", "true", "--show", "4",
                        "--sheet", str(run_dir / "data" / "val_pairs.png"),
                        "--json_out", str(run_dir / "stages" / "check_summary.json")],
              "validation pairs re-read and checked against world.md from their pixels"),
    ]


def run_stage(stage: Stage, run_dir: Path, position: str) -> dict[str, Any]:
    """Run one stage unless its marker says it finished; return its record."""
    marker = run_dir / "stages" / f"{stage.name}.json"
    if marker.exists():
        record = json.loads(marker.read_text())
        if record.get("status") == "done" and record.get("argv") == stage.argv:
            print(f"[{position}] {stage.name}: skipped, finished earlier ({record['seconds']:.1f} s)", flush=True)
            return record
    log_path = run_dir / "logs" / f"{stage.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{position}] {stage.name}: {stage.summary}\n    zoo {shlex.join(stage.argv)}", flush=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", *stage.argv], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            log.write(line)
            print("    " + line.split("\r")[-1], end="", flush=True)  # last state of a progress bar
        code = proc.wait()
    seconds = time.perf_counter() - started
    record = {"stage": stage.name, "argv": stage.argv, "seconds": round(seconds, 2), "log": str(log_path),
              "status": "done" if code == 0 else "failed", "exit_code": code}
    write_json_atomic(marker, record)
    if code != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-15:])
        raise StageFailed(f"stage {stage.name!r} failed with exit code {code} after {seconds:.1f} s; "
                          f"log: {log_path}\n{tail}")
    print(f"[{position}] {stage.name}: done in {seconds:.1f} s", flush=True)
    return record


def pipeline(run_dir: Path = Path("runs/spatialshapes"), data: dict[str, Any] = {}, rerun: list[str] = []) -> dict:
    """Run the whole method on the embedded default, stage by stage, into one run folder.

    Args:
        run_dir: the run folder (data, checkpoints, logs, reports).
        data: options of `zoo data spatial` (train, val, test, image_size, seed, ...).
        rerun: stage names to run again even if they finished.
    """
    run_dir = Path(run_dir)
    stages = plan(run_dir, dict(data))
    unknown = set(rerun) - {s.name for s in stages}
    if unknown:
        raise ValueError(f"unknown stages in rerun: {sorted(unknown)}; stages are {[s.name for s in stages]}")
    for name in rerun:
        (run_dir / "stages" / f"{name}.json").unlink(missing_ok=True)
    started = time.perf_counter()
    records = []
    for i, stage in enumerate(stages, 1):
        try:
            records.append(run_stage(stage, run_dir, f"{i}/{len(stages)}"))
        except StageFailed as err:
            print(f"pipeline stopped: {err}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
    total = time.perf_counter() - started
    manifest = json.loads((run_dir / "data" / "manifest.json").read_text())
    print(f"pipeline finished in {total:.1f} s; run folder {run_dir}")
    print("  pairs   " + "  ".join(f"{k} {v}" for k, v in manifest["counts"]["pairs"].items()))
    print("  prompts " + "  ".join(f"{k} {v}" for k, v in manifest["counts"]["prompts"].items()))
    return {"run_dir": str(run_dir), "seconds": total, "stages": records}
