"""Captions of SpatialShapes images for backbone pretraining, built from a pair record's metadata.

Both sides of a pair are true captions of their own image: the chosen image with the prompt's
relations and boxes, the rejected one with the perturbed relations and its boxes.
"""

from __future__ import annotations

import random
from typing import Any

from zoo.world.geometry import box_centre

KINDS = ("prompt", "relations", "grounded")


def dominant_relation(box_a, box_b) -> str:
    """The 2D word for A relative to B along the axis of the larger centre offset (left/right/above/below)."""
    (xa, ya), (xb, yb) = box_centre(box_a), box_centre(box_b)
    dx, dy = xa - xb, ya - yb
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "above" if dy < 0 else "below"


def caption(meta: dict[str, Any], side: str, kind: str, rng: random.Random, bins: int = 8) -> str:
    """A caption of one side ("chosen" or "rejected") of a world-v1 pair record.

    kinds: "prompt" (the side's own prompt), "relations" (every pair of objects, both named before
    the relation word: "red circle blue square left ; ..."), "grounded" (each object with x/y bins).
    """
    if kind not in KINDS:
        raise ValueError(f"caption kind must be one of {KINDS}, got {kind!r}")
    objects, boxes = meta["objects"], meta[f"{side}_boxes"]
    if kind == "prompt":
        return meta["prompt"] if side == "chosen" else meta["perturbed_prompt"]
    names = [f"{o['colour']} {o['shape']}" for o in objects]
    size = float(meta.get("image_size", 64))
    if kind == "grounded":
        order = rng.sample(range(len(objects)), len(objects))
        parts = []
        for k in order:
            cx, cy = box_centre(boxes[k])
            parts.append(f"{names[k]} {min(int(cx / size * bins), bins - 1)} {min(int(cy / size * bins), bins - 1)}")
        return " , ".join(parts)
    pairs = [(a, b) if rng.random() < 0.5 else (b, a) for a in range(len(objects)) for b in range(a + 1, len(objects))]
    rng.shuffle(pairs)
    return " ; ".join(f"{names[a]} {names[b]} {dominant_relation(boxes[a], boxes[b])}" for a, b in pairs)
