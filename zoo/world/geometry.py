"""The relation rules of world.md on boxes; shared by the world verifier and GenEval's position rule."""

from __future__ import annotations

from typing import Sequence

from zoo.world.spec import ABOVE, BELOW, DIRECTION_THRESHOLD, LEFT, MARGIN_FACTOR, PLANAR, RIGHT

Box = Sequence[float]  # [x0, y0, x1, y1], x1 and y1 exclusive, pixels or any unit


def box_centre(box: Box) -> tuple[float, float]:
    """Centre (x, y) of a box."""
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def planar_masks(dx, dy, mx, my, threshold: float = DIRECTION_THRESHOLD) -> dict:
    """For centre offsets of A from B and margins, whether each 2D phrase "A <phrase> B" holds.

    The one implementation of the rule of world.md: shrink each axis toward zero by its margin,
    normalise, compare with the threshold. Plain arithmetic only, so it works on Python floats
    (fast, one layout at a time) and elementwise on numpy arrays alike.
    """
    sx = ((dx > 0) * 1.0 - (dx < 0) * 1.0) * _positive(abs(dx) - mx)
    sy = ((dy > 0) * 1.0 - (dy < 0) * 1.0) * _positive(abs(dy) - my)
    norm = (sx * sx + sy * sy) ** 0.5
    safe = norm + (norm == 0)  # no 2D relation where the shrunk offset vanishes: u = 0 there
    ux, uy = sx / safe, sy / safe
    return {LEFT: ux < -threshold, RIGHT: ux > threshold, ABOVE: uy < -threshold, BELOW: uy > threshold}


def _positive(x):
    return (x + abs(x)) / 2.0


def box_margins(box_a: Box, box_b: Box, margin: float = MARGIN_FACTOR) -> tuple[float, float]:
    """Per-axis shrink margins: margin * (side_a + side_b), width for x and height for y."""
    mx = margin * ((box_a[2] - box_a[0]) + (box_b[2] - box_b[0]))
    my = margin * ((box_a[3] - box_a[1]) + (box_b[3] - box_b[1]))
    return mx, my


def planar_relations(box_a: Box, box_b: Box, threshold: float = DIRECTION_THRESHOLD) -> set[str]:
    """All 2D phrases that hold for "A <phrase> B" (a diagonal can satisfy two)."""
    (xa, ya), (xb, yb) = box_centre(box_a), box_centre(box_b)
    masks = planar_masks(xa - xb, ya - yb, *box_margins(box_a, box_b), threshold=threshold)
    return {phrase for phrase, held in masks.items() if bool(held)}


def planar_relation_holds(phrase: str, box_a: Box, box_b: Box) -> bool:
    """Whether "A <phrase> B" holds for a 2D phrase."""
    if phrase not in PLANAR:
        raise ValueError(f"not a 2D relation phrase: {phrase!r}; expected one of {PLANAR}")
    return phrase in planar_relations(box_a, box_b)


def overlap_area(box_a: Box, box_b: Box) -> float:
    """Area of the intersection of two boxes."""
    w = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    h = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    return max(w, 0) * max(h, 0)


def box_area(box: Box) -> float:
    """Area of a box."""
    return max(box[2] - box[0], 0) * max(box[3] - box[1], 0)
