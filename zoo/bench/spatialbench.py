"""SpatialBench: the embedded benchmark. SpatialShapes prompts (docs/world.md), images judged from their pixels
by the world's verifier (scoring v1.1: objects count only with the right shape; clutter reported), by relation
count like the paper's tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import torch

from zoo.bench.prompts import BenchItem
from zoo.bench.suite import Suite, register_suite
from zoo.data.records import decode_prompt
from zoo.data.stream import ShardStream
from zoo.data.urls import expand_urls
from zoo.images import to_uint8
from zoo.world import Scene, Verdict, verify_batch
from zoo.world.spec import SCORE_VERSION


def load_spatialbench(prompts: str | list[str], count: int | None = None) -> list[BenchItem]:
    """SpatialBench items from world prompt shards (e.g. data/spatialshapes/prompts/test-*.tar), in shard order:
    all of them on every rank (callers deal them out by index)."""
    items = []
    for record in ShardStream(expand_urls(prompts), decode_prompt, train=False, split=False):
        n = len(record["meta"]["relations"])
        items.append(BenchItem(record["key"], record["prompt"], f"{n} relation{'s' if n > 1 else ''}",
                               {"scene": record["meta"]}))
        if count is not None and len(items) == count:
            break
    return items


def verdict_row(verdict: Verdict, v1: Verdict | None = None, scene: Scene | None = None) -> dict[str, Any]:
    """One image's SpatialBench row: relation score, all relations right, objects found (with the right shape, the
    v1.1 rule), objects whose colour was found whatever the shape, clutter, and the v1 relation score when given;
    with the scene, `pairs_found` (relations whose two objects were found) and `pairs_placed` (of those, satisfied)."""
    row = {"score": verdict.score, "all": verdict.score == 1.0, "found": verdict.found_fraction,
           "colour_found": verdict.colour_found_fraction, "clutter": verdict.clutter}
    if v1 is not None:
        row["score_v1"] = v1.score
    if scene is not None:
        both = [verdict.objects[r.subject].found and verdict.objects[r.object].found for r in scene.relations]
        row["pairs_found"] = int(sum(both))
        row["pairs_placed"] = int(sum(ok for ok, b in zip(verdict.relations, both) if b))
    return row


def verify_images(images: torch.Tensor | Sequence[np.ndarray], scenes: Sequence[dict[str, Any]],
                  version: str = SCORE_VERSION) -> list[dict]:
    """Per-image verdict rows (see verdict_row) of [0, 1] (B, 3, H, W) tensors or uint8 HWC arrays against their
    scenes, under the verifier's scoring `version` (v1.1 rows also carry the v1 relation score)."""
    arrays = [to_uint8(image) if isinstance(image, torch.Tensor) else image for image in images]
    worlds = [Scene.from_json(scene) for scene in scenes]
    verdicts = verify_batch(arrays, worlds, version)
    v1 = verify_batch(arrays, worlds, "v1") if version != "v1" else [None] * len(verdicts)
    return [verdict_row(verdict, old, world) for verdict, old, world in zip(verdicts, v1, worlds)]


MEANS = {"relations": "score", "all_relations": "all", "objects_found": "found", "colour_found": "colour_found",
         "clutter": "clutter", "relations_v1": "score_v1"}


def verdict_means(rows: Sequence[dict]) -> dict[str, float]:
    """Means over verdict rows: relations, all relations right, objects found (right shape), colour found, clutter,
    and the v1 relation score where the rows have it."""
    means = {name: float(np.mean([r[key] for r in rows])) for name, key in MEANS.items() if rows and key in rows[0]}
    if rows and "pairs_found" in rows[0]:
        means["placement"], means["placement_n"] = placement(rows)
    return means


def placement(rows: Sequence[dict]) -> tuple[float, int]:
    """Of the relations whose two objects were found, the fraction satisfied (0 when none), and how many there were:
    drawing and placing told apart."""
    found = sum(r["pairs_found"] for r in rows)
    return (sum(r["pairs_placed"] for r in rows) / found if found else 0.0), found


TABLE_EXTRAS = {"objects found": "found", "colour found": "colour_found", "clutter": "clutter",
                "Overall (v1)": "score_v1"}


def spatialbench_table(items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
    """Mean relation score per relation count and overall (the world-v1.1 rule), then objects found with the right
    shape, objects whose colour was found whatever the shape, clutter, the v1 overall score, and placement (of the
    relations whose two objects were found, the fraction satisfied: drawing and placing told apart)."""
    by_count: dict[str, list[float]] = defaultdict(list)
    for item, row in zip(items, rows):
        by_count[item.category].append(row["score"])
    table = {c: float(np.mean(v)) for c, v in sorted(by_count.items())}
    table["Overall"] = float(np.mean([r["score"] for r in rows])) if rows else float("nan")
    for column, key in TABLE_EXTRAS.items():
        if rows and key in rows[0]:
            table[column] = float(np.mean([r[key] for r in rows]))
    if rows and "pairs_found" in rows[0]:
        table["placement"] = placement(rows)[0]
    return table


def spatialbench_counts(items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, int]:
    """Images behind each column of `spatialbench_table` (per relation count; every image for the rest; for
    placement, the relations whose two objects were found)."""
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.category] += 1
    extras = {column: len(rows) for column, key in TABLE_EXTRAS.items() if rows and key in rows[0]}
    if rows and "pairs_found" in rows[0]:  # placement is over relations, not images
        extras["placement"] = placement(rows)[1]
    return {**dict(sorted(counts.items())), "Overall": len(rows), **extras}


@register_suite
class SpatialBench(Suite):
    """SpatialBench: world prompt shards, images judged from their pixels by the verifier."""

    name = "spatialbench"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        return load_spatialbench(prompts, count)  # shard keys are checked by the shard reader

    def judge_image(self, item: BenchItem, image: np.ndarray, judge: Any) -> dict[str, Any]:
        return verify_images([image], [item.data["scene"]])[0]

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return spatialbench_table(items, rows)

    def counts(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, int]:
        return spatialbench_counts(items, rows)
