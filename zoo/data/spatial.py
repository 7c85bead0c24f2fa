"""`zoo data spatial`: world-v1 pair and prompt shards with train/val/test splits, deterministic."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from zoo.progress import tqdm

from zoo.data.paths import safe_join
from zoo.data.writing import encode_json, encode_png, shard_name, write_json_atomic, write_shard
from zoo.settings import SettingsError, read_json
from zoo.world.pairs import SPLITS, PairSpec, make_pair, make_prompt
from zoo.world.spec import WORLD_VERSION

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SplitSizes:
    """Number of records per split."""

    train: int = 0
    val: int = 0
    test: int = 0

    def __post_init__(self) -> None:
        for split, n in asdict(self).items():
            if n < 0:
                raise ValueError(f"split size must be >= 0, got {split}={n}")


def _pair_samples(spec: PairSpec, seed: int, split: str, start: int, stop: int) -> Iterator[dict[str, Any]]:
    for index in range(start, stop):
        pair = make_pair(spec, seed, split, index)
        yield {"__key__": f"{split}-{index:08d}", "chosen.png": encode_png(pair["chosen"]),
               "rejected.png": encode_png(pair["rejected"]), "json": encode_json(pair["json"])}


def _prompt_samples(spec: PairSpec, seed: int, split: str, start: int, stop: int) -> Iterator[dict[str, Any]]:
    for index in range(start, stop):
        yield {"__key__": f"{split}-{index:08d}", "json": encode_json(make_prompt(spec, seed, split, index))}


def _write_job(job: tuple) -> tuple[str, str, int]:
    kind, path, spec, seed, split, start, stop = job
    samples = _pair_samples if kind == "pairs" else _prompt_samples
    return kind, split, write_shard(Path(path), samples(spec, seed, split, start, stop))


def _jobs(out: Path, kind: str, sizes: SplitSizes, spec: PairSpec, seed: int, shard_size: int) -> list[tuple]:
    jobs = []
    for split in SPLITS:
        total = getattr(sizes, split)
        for shard, start in enumerate(range(0, total, shard_size)):
            path = safe_join(out, kind, shard_name(split, shard))
            jobs.append((kind, str(path), spec, seed, split, start, min(start + shard_size, total)))
    return jobs


def build_spatial(out: Path, pairs: SplitSizes, prompts: SplitSizes, spec: PairSpec, seed: int = 0,
                  shard_size: int = 1000, workers: int = 0, overwrite: bool = False,
                  progress: bool = True) -> dict[str, Any]:
    """Write pair shards to out/pairs and prompt shards to out/prompts, then out/manifest.json.

    Identical arguments give byte-identical shards whatever the number of workers. A finished
    build with the same arguments is reused; different arguments need `overwrite`.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    out = Path(out)
    args = {"pairs": asdict(pairs), "prompts": asdict(prompts), "spec": _spec_json(spec), "seed": seed,
            "shard_size": shard_size, "world": WORLD_VERSION}
    manifest_path = safe_join(out, MANIFEST)
    if manifest_path.exists():
        try:
            manifest = read_json(manifest_path)
        except SettingsError:
            manifest = {"args": "unreadable"}
        if not isinstance(manifest, dict):
            manifest = {"args": "unreadable"}
        if manifest.get("args") == args:
            damage = missing_shards(out, manifest)
            if not damage:
                return {**manifest, "reused": True}
            print(f"{out}: the finished set is damaged ({damage[0][0]}: {damage[0][1]}"
                  f"{', ...' if len(damage) > 1 else ''}): building it again")
        elif not overwrite:
            raise FileExistsError(f"{out} holds a shard set built with other arguments ({manifest_path}); "
                                  "pass overwrite=true or choose another folder")
        manifest_path.unlink()  # from here until the new manifest is written, the set is unfinished
    for kind in ("pairs", "prompts"):
        folder = out / kind
        for old in [*folder.glob("*.tar"), *folder.glob(".*.partial")] if folder.exists() else []:
            old.unlink()
    jobs = _jobs(out, "pairs", pairs, spec, seed, shard_size) + _jobs(out, "prompts", prompts, spec, seed, shard_size)
    counts = {kind: {split: 0 for split in SPLITS} for kind in ("pairs", "prompts")}
    workers = workers or min(os.cpu_count() or 1, max(len(jobs), 1))
    started = time.perf_counter()
    bar = tqdm(total=sum(j[6] - j[5] for j in jobs), desc="spatial shards", unit="rec", disable=not progress)
    with ProcessPoolExecutor(workers, initializer=die_with_parent) if workers > 1 else _Inline() as pool:
        for kind, split, n in pool.map(_write_job, jobs):
            counts[kind][split] += n
            bar.update(n)
    bar.close()
    seconds = time.perf_counter() - started
    manifest = {
        "args": args,
        "counts": counts,
        "shards": {kind: sorted(p.name for p in (out / kind).glob("*.tar")) for kind in counts},
        "shard_bytes": {kind: {p.name: p.stat().st_size for p in sorted((out / kind).glob("*.tar"))}
                        for kind in counts},
        "seconds": round(seconds, 3),
        "pairs_per_second": round(sum(counts["pairs"].values()) / seconds, 1) if seconds else None,
        "world": WORLD_VERSION,
    }
    write_json_atomic(manifest_path, manifest)
    return {**manifest, "reused": False}


def missing_shards(out: Path, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(shard path, what is wrong) for each shard a manifest lists that is gone or has another size than recorded."""
    problems: list[tuple[str, str]] = []
    sizes, shards = manifest.get("shard_bytes", {}), manifest.get("shards", {})
    if not isinstance(shards, dict) or not isinstance(sizes, dict) or \
            not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in shards.values()):
        return [(str(Path(out) / MANIFEST), "its shard list is not {kind: [names]}")]
    for kind, names in shards.items():
        for name in names:
            path = out / kind / name
            if not path.is_file():
                problems.append((str(path), "missing"))
            elif name in (sizes.get(kind) or {}) and path.stat().st_size != sizes[kind][name]:
                problems.append((str(path), f"{path.stat().st_size} bytes, the manifest says {sizes[kind][name]}"))
    return problems


def die_with_parent() -> None:
    """In a pool worker: end as soon as the parent process is gone, so no orphan goes on writing shards."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG on Linux
    except (OSError, AttributeError):
        pass  # elsewhere the watcher below does it

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _spec_json(spec: PairSpec) -> dict[str, Any]:
    grid = {"grid": spec.grid} if spec.grid else {}  # older manifests (no grid) stay reusable
    return {"size": spec.size, "multi_fraction": spec.multi_fraction,
            "object_counts": list(spec.object_counts), "depth_prob": spec.depth_prob, **grid}


def split_urls(out: Path, kind: str, split: str) -> str:
    """The glob of one split's shards in a spatial shard set, e.g. out/pairs/train-*.tar."""
    return str(Path(out) / kind / f"{split}-*.tar")


class _Inline:
    """A stand-in for a process pool that runs jobs in this process."""

    def __enter__(self) -> "_Inline":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @staticmethod
    def map(fn, jobs):
        return map(fn, jobs)
