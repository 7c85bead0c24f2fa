"""SpatialBench: the embedded benchmark. SpatialShapes prompts (world.md), images judged from their pixels
by the world's verifier, reported by relation count like the paper's tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import torch

from zoo.bench.prompts import BenchItem
from zoo.data.records import decode_prompt
from zoo.data.stream import ShardStream
from zoo.data.urls import expand_urls
from zoo.world import Scene, verify


def load_spatialbench(prompts: str | list[str], count: int | None = None) -> list[BenchItem]:
    """SpatialBench items from world prompt shards (e.g. data/spatialshapes/prompts/test-*.tar), in shard order."""
    items = []
    for record in ShardStream(expand_urls(prompts), decode_prompt, train=False):
        n = len(record["meta"]["relations"])
        items.append(BenchItem(record["key"], record["prompt"], f"{n} relation{'s' if n > 1 else ''}",
                               {"scene": record["meta"]}))
        if count is not None and len(items) == count:
            break
    return items


def verify_images(images: torch.Tensor | Sequence[np.ndarray], scenes: Sequence[dict[str, Any]]) -> list[dict]:
    """Per-image verdicts of [0, 1] (B, 3, H, W) tensors or uint8 HWC arrays against their scenes: relation score,
    all relations right, fraction of objects found, fraction with the right shape."""
    rows = []
    for image, scene in zip(images, scenes):
        if isinstance(image, torch.Tensor):
            image = (image.permute(1, 2, 0).clamp(0, 1).cpu().numpy() * 255).round().astype(np.uint8)
        v = verify(image, Scene.from_json(scene))
        rows.append({"score": v.score, "all": v.score == 1.0, "found": v.found_fraction, "shapes": v.shapes_fraction})
    return rows


def verdict_means(rows: Sequence[dict]) -> dict[str, float]:
    """Mean relation score, all relations right, objects found and shapes right over verdict rows."""
    return {"relations": float(np.mean([r["score"] for r in rows])),
            "all_relations": float(np.mean([r["all"] for r in rows])),
            "objects_found": float(np.mean([r["found"] for r in rows])),
            "shapes": float(np.mean([r["shapes"] for r in rows]))}


def spatialbench_table(items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
    """Mean relation score per relation count and overall, plus objects found overall."""
    by_count: dict[str, list[float]] = defaultdict(list)
    for item, row in zip(items, rows):
        by_count[item.category].append(row["score"])
    table = {c: float(np.mean(v)) for c, v in sorted(by_count.items())}
    table["Overall"] = float(np.mean([r["score"] for r in rows])) if rows else float("nan")
    table["objects found"] = float(np.mean([r["found"] for r in rows])) if rows else float("nan")
    return table
