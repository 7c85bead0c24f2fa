"""Data throughput: `zoo data spatial` pairs/s, and streaming pairs from shards vs the same PNG files in a folder.

Prints a table and writes JSON. Rates are medians over repeats, measured in this process.
    python benchmarks/data_throughput.py --pairs 4000 --out bench_out/data.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from zoo.data.records import decode_json, decode_image, decode_pair
from zoo.data.spatial import SplitSizes, build_spatial
from zoo.data.stream import ErrorLog, ShardStream, iter_tar_samples
from zoo.data.urls import expand_urls
from zoo.world.pairs import PairSpec


def generation_rate(root: Path, pairs: int, workers: int) -> float:
    """Pairs/s of a fresh `build_spatial` (train split only) with this many worker processes."""
    manifest = build_spatial(root / f"gen{workers}", SplitSizes(pairs, 0, 0), SplitSizes(), PairSpec(size=64),
                             shard_size=500, workers=workers, progress=False)
    return manifest["pairs_per_second"]


def explode_to_folder(urls: list[str], folder: Path) -> list[str]:
    """Write every pair of the shards as key.chosen.png, key.rejected.png, key.json files; return keys."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for url in urls:
        for raw in iter_tar_samples(url, ErrorLog("raise")):
            for member in ("chosen.png", "rejected.png", "json"):
                (folder / f"{raw['__key__']}.{member}").write_bytes(raw[member])
            keys.append(raw["__key__"])
    return keys


def time_shards(urls: list[str]) -> float:
    """Pairs/s decoding every pair from the shards in one reader (no worker processes)."""
    start = time.perf_counter()
    count = sum(1 for _ in ShardStream(urls, decode_pair, train=False))
    return count / (time.perf_counter() - start)


def time_folder(folder: Path, keys: list[str]) -> float:
    """Pairs/s decoding the same pairs from individual files in a folder."""
    start = time.perf_counter()
    for key in keys:
        decode_json((folder / f"{key}.json").read_bytes())
        for side in ("chosen", "rejected"):
            decode_image((folder / f"{key}.{side}.png").read_bytes(), side)
    return len(keys) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=4000, help="pairs to generate and stream")
    parser.add_argument("--repeats", type=int, default=3, help="streaming repeats (median reported)")
    parser.add_argument("--out", type=Path, default=Path("bench_out/data_throughput.json"))
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        gen = {w: generation_rate(root, args.pairs, w) for w in sorted({1, cores})}
        urls = expand_urls(str(root / f"gen{cores}" / "pairs" / "train-*.tar"))
        keys = explode_to_folder(urls, root / "folder")
        shards, folder = [], []
        for _ in range(args.repeats):  # alternate so both see the same machine load
            shards.append(time_shards(urls))
            folder.append(time_folder(root / "folder", keys))
    result = {
        "pairs": args.pairs, "cpu_cores": cores,
        "generate_pairs_per_s": {str(w): r for w, r in gen.items()},
        "stream_shards_pairs_per_s_per_worker": statistics.median(shards),
        "read_folder_pairs_per_s_per_worker": statistics.median(folder),
    }
    result["shards_over_folder"] = result["stream_shards_pairs_per_s_per_worker"] / result["read_folder_pairs_per_s_per_worker"]
    rows = [(f"zoo data spatial, {w} worker(s)", f"{r:,.0f} pairs/s") for w, r in gen.items()]
    rows += [("stream from shards (1 reader, decode to PIL)", f"{result['stream_shards_pairs_per_s_per_worker']:,.0f} pairs/s"),
             ("same PNG files from a folder (1 reader)", f"{result['read_folder_pairs_per_s_per_worker']:,.0f} pairs/s"),
             ("shards / folder", f"{result['shards_over_folder']:.2f}x")]
    width = max(len(r[0]) for r in rows)
    print(f"{'what':{width}}  rate\n{'-' * width}  ----")
    for name, value in rows:
        print(f"{name:{width}}  {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
