"""Random scenes and layouts of world v1: relation graphs, then boxes that satisfy them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from zoo.world.geometry import box_area, overlap_area, planar_masks
from zoo.world.render import Layout
from zoo.world.scene import Relation, Scene, WorldObject
from zoo.world.spec import (
    BEHIND,
    COLOURS,
    DEPTH_MIN_OVERLAP,
    DIRECTION_THRESHOLD,
    FRONT,
    MARGIN_FACTOR,
    MAX_CANVAS,
    MAX_SIDE_FRACTION,
    MIN_CANVAS,
    MIN_SIDE_FRACTION,
    PLANAR,
    HORIZONTAL,
    LEFT,
    ABOVE,
    OPPOSITE,
    SHAPES,
)

# (objects, relations) a connected relation graph allows with at most three relations
GRAPH_SIZES = {2: (1,), 3: (2, 3), 4: (3,)}
DEPTH_MAX_OVERLAP = 0.45  # keep the back object recognisable
DEPTH_OVERLAP_SLACK = 0.05  # place depth pairs clearly above the 15 % threshold


@dataclass(frozen=True)
class SceneSampler:
    """Samples scenes and layouts on a size x size canvas.

    Args:
        size: canvas side in pixels (32 to 512).
        object_counts: allowed numbers of objects (2 to 4).
        depth_prob: probability that a relation is front/behind instead of 2D.
        gap: minimum gap in pixels between boxes of objects that are not depth-related.
        tries: random positions tried per object before a layout is restarted.
        clearance: layouts keep |u| >= 0.5 + clearance for wanted relations and <= 0.5 - clearance
            for forbidden ones, so that a pixel of blur or anti-aliasing cannot flip a relation.
        grid: 0 (any layout world.md allows), or a step in pixels: every box then has the largest allowed side
            that is a multiple of `grid` and its corner on multiples of `grid` (a canonical style a small
            policy learns far faster: grid 16 at 64 px = one 8x8-pixel token of the 32 px tiny policy).
    """

    size: int = 64
    object_counts: tuple[int, ...] = (2, 3, 4)
    depth_prob: float = 0.0
    gap: int = 1
    tries: int = 16
    clearance: float = 0.1
    grid: int = 0

    def __post_init__(self) -> None:
        if not MIN_CANVAS <= self.size <= MAX_CANVAS:
            raise ValueError(f"canvas size {self.size} outside [{MIN_CANVAS}, {MAX_CANVAS}]")
        bad = [n for n in self.object_counts if n not in GRAPH_SIZES]
        if bad or not self.object_counts:
            raise ValueError(f"object_counts must be a non-empty subset of {sorted(GRAPH_SIZES)}, got {self.object_counts}")
        if not 0.0 <= self.depth_prob <= 1.0:
            raise ValueError(f"depth_prob must be in [0, 1], got {self.depth_prob}")
        if self.grid < 0 or (self.grid and self.grid_side < self.side_range[0]):
            raise ValueError(f"grid {self.grid} px leaves no allowed box side at canvas {self.size} "
                             f"(sides {self.side_range[0]}-{self.side_range[1]} px)")

    @property
    def side_range(self) -> tuple[int, int]:
        """Smallest and largest integer box side allowed at this canvas size."""
        return int(np.ceil(MIN_SIDE_FRACTION * self.size)), int(np.floor(MAX_SIDE_FRACTION * self.size))

    @property
    def grid_side(self) -> int:
        """The box side of every object on the grid: the largest allowed side that is a multiple of `grid`."""
        return self.grid * (self.side_range[1] // self.grid) if self.grid else 0

    def sample_scene(self, rng: np.random.Generator, min_relations: int = 1) -> Scene:
        """A random scene whose relations connect all its objects, with at least `min_relations`."""
        options = [(n, r) for n in self.object_counts for r in GRAPH_SIZES[n] if r >= min_relations]
        if not options:
            raise ValueError(f"no scene with >= {min_relations} relations among {self.object_counts} objects")
        n_objects, n_relations = options[int(rng.integers(len(options)))]
        colours = rng.choice(list(COLOURS), size=n_objects, replace=False)
        objects = tuple(WorldObject(str(c), SHAPES[int(rng.integers(len(SHAPES)))]) for c in colours)
        pairs = _connected_pairs(n_objects, n_relations, rng)
        relations = tuple(Relation(a, self._phrase(rng), b) for a, b in pairs)
        return Scene(objects, relations)

    def _phrase(self, rng: np.random.Generator) -> str:
        if self.depth_prob and rng.random() < self.depth_prob:
            return (FRONT, BEHIND)[int(rng.integers(2))]
        return PLANAR[int(rng.integers(len(PLANAR)))]

    def sample_sides(self, n_objects: int, rng: np.random.Generator) -> np.ndarray:
        """Integer box sides for n objects."""
        if self.grid:
            return np.full(n_objects, self.grid_side)
        lo, hi = self.side_range
        return rng.integers(lo, hi + 1, size=n_objects)

    def sample_layout(
        self,
        scene: Scene,
        sides: Sequence[int],
        rng: np.random.Generator,
        forbidden: Sequence[Relation] = (),
        rounds: int = 32,
    ) -> Layout | None:
        """Boxes satisfying every relation of the scene and none of `forbidden` (2D only), or None.

        Objects are placed one at a time in order of first mention; each takes the first of
        `tries` random positions that meets its constraints with the objects already placed.
        """
        order = draw_order(scene)
        if order is None:
            return None
        sides = [int(s) for s in sides]
        placement = mention_order(scene)
        checks = _checks_by_object(scene, forbidden, placement)
        for _ in range(rounds):
            boxes: dict[int, tuple[int, int, int, int]] = {}
            for k in placement:
                box = self._place(k, sides[k], boxes, checks[k], rng)
                if box is None:
                    break
                boxes[k] = box
            else:
                return Layout(tuple(boxes[i] for i in range(len(sides))), order)
        return None

    def _place(self, k, side, boxes, checks, rng) -> tuple[int, int, int, int] | None:
        lo, hi = self._proposal(k, side, boxes, checks)
        step = self.grid or 1
        lo = [-(-v // step) for v in lo]  # corner ranges in grid steps
        hi = [v // step for v in hi]
        if any(h < l for l, h in zip(lo, hi)):
            return None
        (x_lo, y_lo), (x_span, y_span) = lo, (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1)
        draws = rng.random(2 * self.tries).tolist()
        for t in range(self.tries):
            x, y = step * (x_lo + int(draws[2 * t] * x_span)), step * (y_lo + int(draws[2 * t + 1] * y_span))
            box = (x, y, x + side, y + side)
            if all(_meets(box, boxes, k, other, rel, wanted, self.gap, self.clearance) for other, rel, wanted in checks):
                return box
        return None


    def _proposal(self, k, side, boxes, checks) -> tuple[list[int], list[int]]:
        """Corner ranges [lo, hi] for x and y: beyond each placed box along the axis of k's 2D
        relation with it, where the relations can hold without the boxes overlapping.

        Only a proposal (every candidate is still checked by the exact rules); it makes most
        candidates useful instead of about one in eight.
        """
        lo, hi = [0, 0], [self.size - side, self.size - side]
        for other, rel, wanted in checks:
            if rel is None or rel.is_depth or not wanted:
                continue
            phrase = rel.phrase if rel.subject == k else OPPOSITE[rel.phrase]
            ob = boxes[other]
            axis = 0 if phrase in HORIZONTAL else 1
            if phrase in (LEFT, ABOVE):  # wholly before the other box along the axis
                hi[axis] = min(hi[axis], ob[axis] - side - self.gap)
            else:
                lo[axis] = max(lo[axis], ob[axis + 2] + self.gap)
        return lo, hi


def mention_order(scene: Scene) -> list[int]:
    """Object indices in order of first mention in the prompt, then any never mentioned."""
    order: list[int] = []
    for rel in scene.relations:
        for idx in (rel.subject, rel.object):
            if idx not in order:
                order.append(idx)
    return order + [i for i in range(len(scene.objects)) if i not in order]


def _checks_by_object(scene, forbidden, placement) -> dict[int, list]:
    """For each object, (other, relation or None, wanted) to test when it is placed after `other`.

    A relation of None means "keep apart": objects that are not depth-related may not overlap.
    """
    rank = {obj: i for i, obj in enumerate(placement)}
    depth_pairs = {frozenset((r.subject, r.object)) for r in scene.relations if r.is_depth}
    checks: dict[int, list] = {k: [] for k in placement}
    for rel, wanted in [(r, True) for r in scene.relations] + [(r, False) for r in forbidden]:
        if rel.is_depth and not wanted:
            continue
        later, earlier = sorted((rel.subject, rel.object), key=rank.get, reverse=True)
        checks[later].append((earlier, rel, wanted))
    for a in placement:
        for b in placement:
            if rank[b] < rank[a] and frozenset((a, b)) not in depth_pairs:
                checks[a].append((b, None, True))
    return checks


def _meets(box, boxes, k, other, rel, wanted, gap, clearance) -> bool:
    """Whether placing object k at `box` meets one constraint with an already placed object."""
    ob = boxes[other]
    if rel is None:
        return box[2] + gap <= ob[0] or ob[2] + gap <= box[0] or box[3] + gap <= ob[1] or ob[3] + gap <= box[1]
    a, b = (box, ob) if rel.subject == k else (ob, box)
    if rel.is_depth:
        frac = overlap_area(a, b) / min(box_area(a), box_area(b))
        return DEPTH_MIN_OVERLAP + DEPTH_OVERLAP_SLACK <= frac <= DEPTH_MAX_OVERLAP
    margin = MARGIN_FACTOR * ((a[2] - a[0]) + (b[2] - b[0]))
    dx = (a[0] + a[2] - b[0] - b[2]) / 2.0
    dy = (a[1] + a[3] - b[1] - b[3]) / 2.0
    threshold = DIRECTION_THRESHOLD + clearance if wanted else DIRECTION_THRESHOLD - clearance
    return bool(planar_masks(dx, dy, margin, margin, threshold)[rel.phrase]) == wanted


def _connected_pairs(n_objects: int, n_relations: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(subject, object) pairs of a random connected graph with no pair twice.

    The tree edges come first, each joining a new object to one already mentioned; a spare edge,
    if any, closes a triangle last. Each pair's direction is random.
    """
    perm = rng.permutation(n_objects).tolist()
    edges = []
    for k in range(1, n_objects):
        edges.append((perm[k], perm[int(rng.integers(k))]))
    linked = {frozenset(e) for e in edges}
    spare = [(a, b) for a in range(n_objects) for b in range(a + 1, n_objects) if frozenset((a, b)) not in linked]
    while len(edges) < n_relations:
        edges.append(spare.pop(int(rng.integers(len(spare)))))
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in edges]


def draw_order(scene: Scene) -> tuple[int, ...] | None:
    """Back-to-front drawing order honouring every depth relation, or None when they form a cycle."""
    n = len(scene.objects)
    behind_of: dict[int, set[int]] = {i: set() for i in range(n)}  # i must be drawn after these
    for rel in scene.relations:
        if rel.phrase == FRONT:
            behind_of[rel.subject].add(rel.object)
        elif rel.phrase == BEHIND:
            behind_of[rel.object].add(rel.subject)
    order: list[int] = []
    while len(order) < n:
        ready = [i for i in range(n) if i not in order and behind_of[i] <= set(order)]
        if not ready:
            return None
        order.append(ready[0])
    return tuple(order)
