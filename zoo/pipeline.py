"""`zoo pipeline`: the main job, each stage a `zoo` subcommand run as a user would run it by hand.

The stages are data: the `graph` of a pipeline file (configs/pipeline/spatialshapes.yaml), each a `zoo` command line
or a `zoo fit` of an experiment config with overrides, with `{run_dir}`-style references filled in here.

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
from typing import Any, TypedDict, Union

import yaml
from jsonargparse.typing import path_type

import zoo
from zoo.config_files import configs_root, resolve_config
from zoo.data.writing import write_json_atomic
from zoo.progress import ENV as PROGRESS_ENV
from zoo.progress import eta_seconds, read_progress

CONFIGS = configs_root()  # the repository's configs/, or the copy installed with the package
DEFAULT_PIPELINE = CONFIGS / "pipeline" / "spatialshapes.yaml"
CONFIG_FLAGS = ("-c", "--config", "--experiment")  # flags whose value is a config file (found, and digested)
STAGE_KEYS = {"name", "summary", "after", "zoo", "args", "fit", "out", "export", "set"}
ConfigDir = path_type("dr")  # a folder; given in a pipeline file, relative to that file
_REF = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: a `zoo` command line, what it is for, and the stages it needs."""

    name: str
    argv: list[str]
    summary: str
    after: tuple[str, ...] = ()


Value = Union[str, bool, int, float, None, list, dict]  # str first: a string from YAML is kept as written


class StageSpec(TypedDict, total=False):
    """One stage of a pipeline file's `graph` (see configs/pipeline/spatialshapes.yaml)."""

    name: str
    summary: str
    after: list[str]
    zoo: list[str]
    args: dict[str, Value]
    fit: str
    out: str
    export: str
    set: dict[str, Value]


class StageFailed(RuntimeError):
    """A stage exited with an error."""


def _flags(args: dict[str, Any]) -> list[str]:
    flags = []
    for key, value in args.items():
        flags.append(f"--{key}")
        flags.append(_text(value))
    return flags


def fit_argv(config: str, out: Path, export: str, overrides: dict[str, Any] | None = None) -> list[str]:
    """`zoo fit -c CONFIG` with its outputs (logs, checkpoints, config as run, export) under `out`, then
    `--key value` overrides (`{"trainer.max_steps": 2}`)."""
    argv = ["fit", "-c", config, "--trainer.default_root_dir", str(out), "--trainer.logger.init_args.save_dir",
            str(out), "--trainer.enable_progress_bar", "false", "--model.init_args.export_dir", str(out / export)]
    return argv + _flags(overrides or {})


def _text(value: Any) -> str:
    """A value as one command-line word: lists, mappings and booleans as JSON, None as `null`."""
    if value is None:
        return "null"
    return json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value)


def load_pipeline(path: str | Path) -> dict[str, Any]:
    """A pipeline file's contents (its options and `graph`); ValueError names the file when it is not a mapping."""
    path = resolve_config(path)
    content = yaml.safe_load(Path(path).read_text())
    if not isinstance(content, dict) or not isinstance(content.get("graph"), list):
        raise ValueError(f"{path}: a pipeline file is a mapping with a `graph:` list of stages")
    return content


class _Refs:
    """Resolves `{name}` references in a stage's strings (and `{data}`, the data options as flags)."""

    def __init__(self, where: str, values: dict[str, Any], data: dict[str, Any], config_dir: Path | None) -> None:
        self.where, self.values, self.data, self.config_dir = where, values, data, config_dir

    def text(self, value: Any) -> Any:
        """Strings with their references filled in (inside lists and mappings too); other values as they are."""
        if isinstance(value, list):
            return [self.text(v) for v in value]
        if isinstance(value, dict):
            return {k: self.text(v) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        return _REF.sub(self._one, value)

    def _one(self, match: re.Match) -> str:
        name = match.group(1)
        if name not in self.values:
            raise ValueError(f"{self.where}: unknown reference {{{name}}} (known: "
                             f"{', '.join('{' + k + '}' for k in [*self.values, 'data'])})")
        return str(self.values[name])

    def words(self, items: list[Any]) -> list[str]:
        """Command-line words of `zoo: [...]` items; `{data}` becomes the data options as flags."""
        return [w for item in items for w in (_flags(self.data) if item == "{data}" else [_text(self.text(item))])]

    def config(self, name: Any) -> str:
        """A config named by a stage: next to the pipeline file first, else as given or among the shipped ones."""
        name = self.text(name)
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.where}: a config is a file name, got {name!r}")
        if self.config_dir is not None and (self.config_dir / name).is_file():
            return str(self.config_dir / name)
        return str(resolve_config(name))

    def args(self, args: Any) -> list[str]:
        """`--key value` words of a mapping; `experiment`/`config` values are configs (see `config`)."""
        if not isinstance(args, dict):
            raise ValueError(f"{self.where}: `args`/`set` is a mapping of flag names to values, got {args!r}")
        words = []
        for key, value in args.items():
            words += [f"--{key}", self.config(value) if f"--{key}" in CONFIG_FLAGS else _text(self.text(value))]
        return words


def _stage(spec: Any, index: int, refs: _Refs, run_dir: Path, known: list[str], source: str) -> Stage:
    """One stage of the graph as a `zoo` command line (see configs/pipeline/spatialshapes.yaml)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"{source}: graph[{index}] needs a `name` (a stage is a mapping), got {spec!r}")
    name = spec["name"]
    refs.where = f"{source}: stage {name!r}"
    unknown = set(spec) - STAGE_KEYS
    if unknown or ("zoo" in spec) == ("fit" in spec) or name in known:
        problem = (f"unknown keys {sorted(unknown)} (a stage has {sorted(STAGE_KEYS)})" if unknown else
                   "appears twice" if name in known else "needs exactly one of `zoo: [VERB, ...]` or `fit: CONFIG`")
        raise ValueError(f"{refs.where}: {problem}")
    after = spec.get("after") or []
    if not isinstance(after, list) or any(a not in known for a in after):
        raise ValueError(f"{refs.where}: `after` names stages listed above it, got {after!r} (above: {known})")
    if "zoo" in spec:
        if not isinstance(spec["zoo"], list) or not spec["zoo"] or set(spec) & {"out", "export", "set"}:
            raise ValueError(f"{refs.where}: `zoo` is a list [VERB, ...] with `args` (not out/export/set)")
        argv = refs.words(spec["zoo"]) + refs.args(spec.get("args") or {})
    else:
        if not spec.get("out") or not spec.get("export") or "args" in spec:
            raise ValueError(f"{refs.where}: a `fit` stage needs `out` and `export` (and takes `set`, not `args`)")
        argv = fit_argv(refs.config(spec["fit"]), run_dir / refs.text(spec["out"]), refs.text(spec["export"]))
        argv += refs.args(spec.get("set") or {})
    return Stage(name, argv, str(spec.get("summary") or name), tuple(after))


def plan(run_dir: Path, data: dict[str, Any], bench_count: int = 256, construct_prompts: int = 1000,
         graph: list[StageSpec] | None = None, config_dir: Path | None = None,
         source: str = "graph") -> list[Stage]:
    """The stages of a pipeline graph (by default the shipped configs/pipeline/spatialshapes.yaml) for a run folder."""
    if graph is None:
        source, config_dir = str(DEFAULT_PIPELINE), DEFAULT_PIPELINE.parent
        graph = load_pipeline(DEFAULT_PIPELINE)["graph"]
    if not isinstance(graph, list) or not graph:
        raise ValueError(f"{source}: the pipeline graph is a non-empty list of stages, got {graph!r}")
    values = {"run_dir": run_dir, "data_dir": run_dir / "data", "bench_count": bench_count,
              "construct_prompts": construct_prompts}
    refs = _Refs(source, values, data, None if config_dir is None else Path(config_dir))
    stages: list[Stage] = []
    for index, spec in enumerate(graph):
        stages.append(_stage(spec, index, refs, run_dir, [s.name for s in stages], source))
    return stages


def config_digest(argv: list[str]) -> str:
    """SHA-256 of the config files a command line reads (`-c FILE`, `--experiment FILE`) and of the YAML files
    they name relative to themselves (`data: ../data/x.yaml`): editing a config makes its stage run again."""
    digest = hashlib.sha256()
    for flag, value in zip(argv, argv[1:]):
        path = Path(value)
        if flag in CONFIG_FLAGS and path.is_file():
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
             overrides: dict[str, list[str]] = {}, construct_prompts: int = 1000,
             graph: list[StageSpec] | None = None, config_dir: ConfigDir | None = None) -> dict:
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
        graph: the stages (see configs/pipeline/spatialshapes.yaml, whose graph is the default).
        config_dir: where configs named by the graph are looked up first (`.` in a pipeline file: its folder).
    """
    run_dir = Path(run_dir)
    folder = None if config_dir is None else Path(os.fspath(config_dir))  # a file's `.`: the absolute folder
    planned = plan(run_dir, dict(data), bench_count, construct_prompts, graph, folder,
                   "graph" if folder is None else f"graph (pipeline file in {folder})")
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
