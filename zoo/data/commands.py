"""The `zoo data` subcommands: typed functions whose signatures and docstrings make the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from zoo.data.inspect import format_summary, inspect_shards
from zoo.data.pack import pack_pairs
from zoo.data.spatial import SplitSizes, build_spatial
from zoo.errors import UsageError
from zoo.world.pairs import PairSpec
from zoo.world.sampler import MAX_CANVAS, MIN_CANVAS


def spatial(out: Path = Path("data/spatialshapes"), train: int = 20000, val: int = 1000, test: int = 1000,
            prompts_train: int = 2000, prompts_val: int = 200, prompts_test: int = 500, image_size: int = 64,
            multi_fraction: float = 0.5, object_counts: list[int] = [2, 3, 4], depth_prob: float = 0.0,
            grid: int = 0, seed: int = 0, shard_size: int = 1000, workers: int = 0, overwrite: bool = False) -> dict[str, Any]:
    """Write SpatialShapes (world v1) pair and prompt shards with train/val/test splits.

    Pairs go to OUT/pairs/{split}-NNNNNN.tar (chosen.png, rejected.png, json), prompts to
    OUT/prompts/{split}-NNNNNN.tar (json), and OUT/manifest.json describes the set. The same
    arguments give byte-identical shards; rerunning with them reuses the finished set.

    Args:
        out: output folder.
        train: training pairs.
        val: validation pairs.
        test: test pairs.
        prompts_train: RL training prompts.
        prompts_val: RL validation prompts.
        prompts_test: RL test (benchmark) prompts.
        image_size: canvas side in pixels (32 to 512).
        multi_fraction: fraction of pairs with 2-3 perturbations; the rest have exactly 1.
        object_counts: allowed numbers of objects per scene (2, 3, 4).
        depth_prob: probability of a front/behind relation instead of a 2D one.
        grid: 0 (any layout), or a layout grid in pixels: every object gets the largest allowed side that is a
            multiple of it, its corner on multiples of it (the SFT data of the embedded policy: 16 at 64 px).
        seed: generation seed; each record depends only on (seed, split, index).
        shard_size: records per shard.
        workers: generator processes (0 = one per CPU core).
        overwrite: replace a shard set built with other arguments.
    """
    if not MIN_CANVAS <= image_size <= MAX_CANVAS:
        raise UsageError(f"--image_size must be in [{MIN_CANVAS}, {MAX_CANVAS}] pixels, got {image_size}")
    try:
        spec = PairSpec(size=image_size, multi_fraction=multi_fraction, object_counts=tuple(object_counts),
                        depth_prob=depth_prob, grid=grid)
    except ValueError as error:
        raise UsageError(f"zoo data spatial: {error}") from None
    manifest = build_spatial(out, SplitSizes(train, val, test), SplitSizes(prompts_train, prompts_val, prompts_test),
                             spec, seed=seed, shard_size=shard_size, workers=workers, overwrite=overwrite)
    print(format_manifest(Path(out), manifest))
    return manifest


def format_manifest(out: Path, manifest: dict[str, Any]) -> str:
    """One line per kind with split counts, and the rate."""
    state = "reused" if manifest.get("reused") else f"written in {manifest['seconds']:.1f} s ({manifest['pairs_per_second']} pairs/s)"
    lines = [f"SpatialShapes world {manifest['world']} shards in {out}: {state}"]
    for kind, counts in manifest["counts"].items():
        lines.append(f"  {kind:8s} " + "  ".join(f"{split} {n}" for split, n in counts.items())
                     + f"  ({len(manifest['shards'][kind])} shards)")
    return "\n".join(lines)


def pack(input: Path, *, out: Path, split: str = "train", shard_size: int = 1000,
         overwrite: bool = False) -> dict[str, Any]:
    """Pack preference pairs with image paths into pair shards.

    INPUT is a JSON-lines file of {prompt, chosen, rejected, ...metadata} or an HPSv3-style JSON list
    of {prompt, path1 (preferred), path2, ...}; image paths are relative to INPUT's folder. Every
    record is validated (prompt, both images decodable); bad records are listed with the reason in
    OUT/pack_report.json, never written; records with "accept": false (review edits) are left out.

    Args:
        input: the JSON-lines or JSON file.
        out: folder for OUT/{split}-NNNNNN.tar and the report.
        split: split name used in shard and key names.
        shard_size: pairs per shard.
        overwrite: replace existing shards of this split in OUT.
    """
    summary = pack_pairs(input, out, split=split, shard_size=shard_size, overwrite=overwrite)
    print(f"packed {summary['packed']} of {summary['records']} records into {summary['shards']} shards in {out}; "
          f"{summary['bad']} bad, {summary['declined_by_review']} declined by review (report: {Path(out) / 'pack_report.json'})")
    for err in summary["errors"][:20]:
        print(f"  bad {err['record']}: {err['reason']}")
    return summary


def inspect(urls: str | list[str], kind: Literal["auto", "pairs", "prompts"] = "auto", show: int = 3,
            verify: bool = False, sheet: Path | None = None, out: Path | None = None,
            allow_shell_urls: bool = False) -> dict[str, Any]:
    """Count, validate and show samples of a shard set (pairs or prompts); exits with status 1 when a sample is
    corrupt or a shard its manifest lists is missing, and warns when the set has no manifest.

    Args:
        urls: a shard spec (path, glob, brace pattern, fsspec URL) or a list of them.
        kind: "pairs", "prompts" or "auto" (by the members present).
        show: how many example records to print.
        verify: check world-v1 pairs against the pair rules from their pixels.
        sheet: save the shown pairs as a PNG (chosen | rejected per row).
        out: also write the full summary as JSON to this file.
        allow_shell_urls: accept `pipe:` URLs, which run shell commands.
    """
    summary = inspect_shards(urls, kind=kind, show=show, verify_world=verify, sheet=sheet,
                             allow_shell_urls=allow_shell_urls)
    print(format_summary(summary))
    if out:
        Path(out).write_text(json.dumps(summary, indent=2))
    if summary["corrupt"] or summary["missing_shards"]:
        raise SystemExit(f"inspect: {summary['corrupt']} corrupt samples, {len(summary['missing_shards'])} missing "
                         "shards (listed above)")
    return summary
