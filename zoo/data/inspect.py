"""`zoo data inspect`: count, validate and show samples of any shard set."""

from __future__ import annotations

import fnmatch
from collections import Counter
from pathlib import Path
from typing import Any

import braceexpand
import numpy as np
from PIL import Image
from zoo.progress import tqdm

from zoo.data.records import RecordError, decode_pair, decode_prompt, validate_world_pair
from zoo.data.spatial import missing_shards
from zoo.data.stream import ErrorLog, iter_tar_samples
from zoo.data.urls import expand_urls
from zoo.settings import SettingsError, read_json
from zoo.world.pairs import perturbed_scene_of, scene_of
from zoo.world.verify import verify

KINDS = ("auto", "pairs", "prompts")


def detect_kind(sample: dict[str, Any]) -> str:
    """"pairs" when a sample has a chosen or a rejected image (a pair missing one is a corrupt pair), else "prompts"."""
    return "pairs" if any(k.startswith(("chosen", "rejected")) for k in sample) else "prompts"


MANIFESTS = ("manifest.json", "pack_report.json", "construct_summary.json")


def set_problems(specs: str | list[str], shards: list[str]) -> tuple[list[str], list[str]]:
    """(warnings, missing shards) from the manifests beside local shards: a set without any manifest is warned
    about (it may be half-built); shards a spatial manifest lists that match the specs but are gone are missing."""
    warnings, missing = [], []
    folders = sorted({Path(s).parent for s in shards if "://" not in s and not s.startswith("pipe:")})
    patterns = [p for spec in ([specs] if isinstance(specs, (str, Path)) else specs)
                for p in braceexpand.braceexpand(str(spec))]
    for folder in folders:
        found = [folder / n for n in MANIFESTS if (folder / n).is_file()] + \
            [folder.parent / n for n in MANIFESTS if (folder.parent / n).is_file()]
        if not found:
            warnings.append(f"no manifest ({', '.join(MANIFESTS)}) beside {folder}: the set may be half-built")
            continue
        for path in found:
            try:
                meta = read_json(path)
            except SettingsError as err:
                warnings.append(str(err))
                continue
            if not isinstance(meta, dict):
                warnings.append(f"{path}: not a JSON object")
                continue
            if path.name == "construct_summary.json" and not meta.get("complete", True):
                warnings.append(f"{path}: the construct run is not complete ({meta.get('shards_done')} of "
                                f"{meta.get('shards')} chunks)")
            if path.name == "manifest.json":
                missing += [f"{shard}: {what}" for shard, what in missing_shards(path.parent, meta)
                            if any(fnmatch.fnmatch(shard, p) for p in patterns)]
    return warnings, missing


def check_world_pair(pair: dict[str, Any]) -> None:
    """The pair rules of world.md, from pixels: chosen satisfies every original relation, rejected
    satisfies the perturbed ones and breaks at least one original one."""
    meta = pair["meta"]
    validate_world_pair(meta)
    scene, perturbed = scene_of(meta), perturbed_scene_of(meta)
    chosen, rejected = np.asarray(pair["chosen"]), np.asarray(pair["rejected"])
    if verify(chosen, scene).score != 1.0:
        raise RecordError("chosen image does not satisfy every relation of the prompt")
    if verify(rejected, perturbed).score != 1.0:
        raise RecordError("rejected image does not satisfy the perturbed prompt")
    if verify(rejected, scene).score == 1.0:
        raise RecordError("rejected image satisfies the original prompt")


def inspect_shards(urls: str | list[str], kind: str = "auto", show: int = 3, verify_world: bool = False,
                   sheet: Path | None = None, allow_shell_urls: bool = False, progress: bool = True) -> dict[str, Any]:
    """Read every sample once: counts per shard, field statistics, errors, a few examples.

    With `verify_world`, world-v1 pairs are also checked against the pair rules from their pixels.
    With `sheet`, the first `show` pairs are saved side by side (chosen | rejected) as a PNG.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    shards = expand_urls(urls, allow_shell_urls)
    warnings, missing = set_problems(urls, shards)
    errors = ErrorLog("skip", "inspect")
    per_shard: dict[str, int] = {}
    stats: dict[str, Counter] = {"n_perturbations": Counter(), "tag": Counter(), "world": Counter(), "size": Counter()}
    examples: list[dict[str, Any]] = []
    images: list[np.ndarray] = []
    for url in tqdm(shards, desc="inspect", unit="shard", disable=not progress):
        per_shard[url] = 0
        for raw in iter_tar_samples(url, errors, allow_shell_urls):
            sample_kind = detect_kind(raw) if kind == "auto" else kind
            try:
                sample = decode_pair(raw) if sample_kind == "pairs" else decode_prompt(raw)
                if verify_world and sample_kind == "pairs":
                    check_world_pair(sample)
            except RecordError as err:
                errors.record(url, raw["__key__"], str(err))
                continue
            per_shard[url] += 1
            _tally(stats, sample, sample_kind)
            if len(examples) < show:
                examples.append({"key": sample["key"], **{k: v for k, v in sample["meta"].items() if k in
                                 ("prompt", "perturbed_prompt", "n_perturbations", "tag")}})
                if sample_kind == "pairs":
                    images.append(np.concatenate([np.asarray(sample["chosen"]), np.asarray(sample["rejected"].resize(sample["chosen"].size))], 1))
    if sheet and images:
        _save_sheet(images, Path(sheet))
    return {
        "shards": len(shards),
        "samples": sum(per_shard.values()),
        "corrupt": errors.count,
        "errors": errors.examples,
        "per_shard": per_shard,
        "stats": {k: dict(sorted(v.items(), key=lambda kv: str(kv[0]))) for k, v in stats.items() if v},
        "examples": examples,
        "verified": verify_world,
        "warnings": warnings,
        "missing_shards": missing,
    }


def _tally(stats: dict[str, Counter], sample: dict[str, Any], kind: str) -> None:
    meta = sample["meta"]
    if kind == "pairs":
        stats["n_perturbations"][meta.get("n_perturbations", "?")] += 1
        stats["size"]["x".join(map(str, sample["chosen"].size))] += 1
    if "tag" in meta:
        stats["tag"][meta["tag"]] += 1
    stats["world"][meta.get("world", "none")] += 1


def _save_sheet(rows: list[np.ndarray], path: Path) -> None:
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, 2), (0, width - r.shape[1]), (0, 0)), constant_values=0) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(padded, 0)).save(path)


def format_summary(summary: dict[str, Any]) -> str:
    """A short human-readable summary of `inspect_shards` output."""
    lines = [f"{summary['samples']} samples in {summary['shards']} shards, {summary['corrupt']} corrupt"
             + (" (world pair rules verified from pixels)" if summary["verified"] else "")]
    for name, counts in summary["stats"].items():
        lines.append(f"  {name}: " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    for warning in summary.get("warnings", []):
        lines.append(f"  warning: {warning}")
    for shard in summary.get("missing_shards", []):
        lines.append(f"  missing shard: {shard}")
    for err in summary["errors"]:
        lines.append(f"  error: {err}")
    for ex in summary["examples"]:
        lines.append("  example " + ", ".join(f"{k}={v!r}" for k, v in ex.items()))
    return "\n".join(lines)
