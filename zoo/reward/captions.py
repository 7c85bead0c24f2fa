"""Captions of SpatialShapes images for backbone pretraining, built from a pair record's metadata.

Both sides of a pair are true pictures of their own prompt: the chosen image of the relations and
boxes of the prompt, the rejected one of the perturbed relations and its own boxes. Every caption
kind names its *answer words*: the tokens the language-model loss is put on.
"""

from __future__ import annotations

import random
from typing import Any

from zoo.world.geometry import box_centre, planar_relations
from zoo.world.spec import PLANAR, article

DIRECTIONS = ("left", "right", "above", "below")
ANSWERS = {
    "prompt": None,  # every caption token
    "relations": DIRECTIONS,  # "red circle blue square left ; ..."
    "relations_colour": DIRECTIONS,  # "red blue left ; ..."
    "verify": ("yes", "no"),  # "a red circle to the left of a blue square yes, and ..."
}
KINDS = tuple(ANSWERS)


def dominant_relation(box_a, box_b) -> str:
    """The 2D word for A relative to B along the axis of the larger centre offset (left/right/above/below)."""
    (xa, ya), (xb, yb) = box_centre(box_a), box_centre(box_b)
    dx, dy = xa - xb, ya - yb
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "above" if dy < 0 else "below"


def _verify(objects, relations, boxes, rng: random.Random) -> str:
    """The side's relation clauses in the prompt grammar, each stated truly or falsely and answered."""
    seen: set[int] = set()

    def name(i: int) -> str:
        o = objects[i]
        det = "the" if i in seen else article(o["colour"])
        seen.add(i)
        return f"{det} {o['colour']} {o['shape']}"

    clauses = []
    for a, _, b in relations:
        holds = planar_relations(boxes[a], boxes[b])
        if holds and rng.random() < 0.5:
            phrase, answer = rng.choice(sorted(holds)), "yes"
        else:
            phrase, answer = rng.choice([p for p in PLANAR if p not in holds]), "no"
        subject = name(a)
        clauses.append(f"{subject} {phrase} {name(b)} {answer}")
    return ", and ".join(clauses)


def caption(meta: dict[str, Any], side: str, kind: str, rng: random.Random) -> str:
    """A caption of one side ("chosen" or "rejected") of a world-v1 pair record; see ANSWERS for kinds."""
    if kind not in ANSWERS:
        raise ValueError(f"caption kind must be one of {KINDS}, got {kind!r}")
    objects, boxes = meta["objects"], meta[f"{side}_boxes"]
    if kind == "prompt":
        return meta["prompt"] if side == "chosen" else meta["perturbed_prompt"]
    if kind == "verify":
        relations = meta["relations"] if side == "chosen" else meta["perturbed_relations"]
        return _verify(objects, relations, boxes, rng)
    colour_only = kind == "relations_colour"
    names = [o["colour"] if colour_only else f"{o['colour']} {o['shape']}" for o in objects]
    pairs = [(a, b) if rng.random() < 0.5 else (b, a) for a in range(len(objects)) for b in range(a + 1, len(objects))]
    rng.shuffle(pairs)
    return " ; ".join(f"{names[a]} {names[b]} {dominant_relation(boxes[a], boxes[b])}" for a, b in pairs)
