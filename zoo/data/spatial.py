"""`zoo data spatial`: world-v1 pair and prompt shards with train/val/test splits, deterministic."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from zoo.data.writing import encode_json, encode_png, shard_name, write_json_atomic, write_shard
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
            path = out / kind / shard_name(split, shard)
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
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("args") == args:
            return {**manifest, "reused": True}
        if not overwrite:
            raise FileExistsError(f"{out} holds a shard set built with other arguments ({manifest_path}); "
                                  "pass overwrite=true or choose another folder")
    for kind in ("pairs", "prompts"):
        for old in (out / kind).glob("*.tar") if (out / kind).exists() else []:
            old.unlink()
    jobs = _jobs(out, "pairs", pairs, spec, seed, shard_size) + _jobs(out, "prompts", prompts, spec, seed, shard_size)
    counts = {kind: {split: 0 for split in SPLITS} for kind in ("pairs", "prompts")}
    workers = workers or min(os.cpu_count() or 1, max(len(jobs), 1))
    started = time.perf_counter()
    bar = tqdm(total=sum(j[6] - j[5] for j in jobs), desc="spatial shards", unit="rec", disable=not progress)
    with ProcessPoolExecutor(workers) if workers > 1 else _Inline() as pool:
        for kind, split, n in pool.map(_write_job, jobs):
            counts[kind][split] += n
            bar.update(n)
    bar.close()
    seconds = time.perf_counter() - started
    manifest = {
        "args": args,
        "counts": counts,
        "shards": {kind: sorted(p.name for p in (out / kind).glob("*.tar")) for kind in counts},
        "seconds": round(seconds, 3),
        "pairs_per_second": round(sum(counts["pairs"].values()) / seconds, 1) if seconds else None,
        "world": WORLD_VERSION,
    }
    write_json_atomic(manifest_path, manifest)
    return {**manifest, "reused": False}


def _spec_json(spec: PairSpec) -> dict[str, Any]:
    return {"size": spec.size, "multi_fraction": spec.multi_fraction,
            "object_counts": list(spec.object_counts), "depth_prob": spec.depth_prob}


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
