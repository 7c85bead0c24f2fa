"""The pixel-only verifier of docs/world.md: find each object by colour and shape, check relations, measure clutter.

Two scoring versions, both reproducible: "v1" (an object is found by its colour alone) and "v1.1", the default
(found only with the right colour *and* the right shape class; `clutter` measures stray palette colour).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

from zoo.world.geometry import box_area, overlap_area, planar_relation_holds
from zoo.world.render import shape_mask
from zoo.world.scene import Scene
from zoo.world.spec import (COLOUR_RADIUS, COLOURS, DEPTH_MIN_OVERLAP, FRONT, MIN_REGION_FRACTION, SCORE_VERSION,
                            SCORE_VERSIONS, WHITE)

PALETTE_NAMES = tuple(COLOURS) + ("white",)
PALETTE = np.array(list(COLOURS.values()) + [WHITE], dtype=np.float32)
# fill ratio of the region's box: triangle ~ 1/2, circle ~ pi/4, square ~ 1 (thresholds sit between
# the values that exact rasterisation gives from 7 px, the smallest box at 32 px, up to 153 px)
TRIANGLE_MAX_FILL = 0.69
CIRCLE_MAX_FILL = 0.90
FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class ObjectVerdict:
    """What the verifier saw of one object: `found` under the verdict's version (v1: a region of its colour;
    v1.1: that region with the right shape class), `colour_found` (a region of its colour, whatever its shape)."""

    found: bool
    shape: str | None  # the classified shape of its colour's region, None when there is none
    shape_ok: bool
    box: tuple[int, int, int, int] | None
    fill: float
    colour_found: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"found": self.found, "colour_found": self.colour_found, "shape": self.shape,
                "shape_ok": self.shape_ok, "box": list(self.box) if self.box else None, "fill": round(self.fill, 4)}


@dataclass(frozen=True)
class Verdict:
    """Per-object and per-relation verdicts, the scene score (fraction of relations satisfied) and `clutter`
    (fraction of the canvas in palette colours outside the found objects' regions), under scoring `version`."""

    objects: tuple[ObjectVerdict, ...]
    relations: tuple[bool, ...]
    clutter: float = 0.0
    version: str = SCORE_VERSION
    score: float = field(init=False)

    def __post_init__(self) -> None:
        score = float(np.mean(self.relations)) if self.relations else 1.0
        object.__setattr__(self, "score", score)

    @property
    def all_found(self) -> bool:
        """Whether every object was found."""
        return all(o.found for o in self.objects)

    @property
    def found_fraction(self) -> float:
        """Fraction of objects found."""
        return float(np.mean([o.found for o in self.objects])) if self.objects else 1.0

    @property
    def colour_found_fraction(self) -> float:
        """Fraction of objects with a region of their colour, whatever its shape (v1's "found")."""
        return float(np.mean([o.colour_found for o in self.objects])) if self.objects else 1.0

    @property
    def shapes_fraction(self) -> float:
        """Fraction of objects found with the right shape."""
        return float(np.mean([o.shape_ok for o in self.objects])) if self.objects else 1.0

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"world": self.version, "score": self.score, "relations": list(self.relations),
                "clutter": round(self.clutter, 6), "objects": [o.to_json() for o in self.objects]}


def to_rgb_array(image: Any) -> np.ndarray:
    """An HxWx3 uint8 array from a PIL image or an HxWx3 uint8 array."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 image, got shape {array.shape} dtype {array.dtype}")
    return array


def colour_map(image: np.ndarray) -> np.ndarray:
    """Per pixel, the index of its nearest palette colour (white last) within distance 80, else -1."""
    white = len(PALETTE) - 1
    out = np.full(image.shape[:2], white, dtype=np.int8)
    pure_white = (image == 255).all(-1)
    pixels = image[~pure_white].astype(np.float32)  # usually a small part of the canvas
    dist2 = ((pixels[:, None, :] - PALETTE) ** 2).sum(-1)
    nearest = dist2.argmin(-1)
    within = dist2[np.arange(len(pixels)), nearest] <= COLOUR_RADIUS**2
    out[~pure_white] = np.where(within, nearest, -1)
    return out


def classify_shape(fill: float) -> str:
    """Shape from a region's fill ratio of its box."""
    if fill < TRIANGLE_MAX_FILL:
        return "triangle"
    return "circle" if fill < CIRCLE_MAX_FILL else "square"


def _find(colours: np.ndarray, colour_idx: int, min_pixels: float) -> tuple[np.ndarray | None, tuple | None]:
    labels, count = ndimage.label(colours == colour_idx, structure=FOUR_CONNECTED)
    if count == 0:
        return None, None
    sizes = np.bincount(labels.ravel())[1:]
    best = int(sizes.argmax())
    if sizes[best] < min_pixels:
        return None, None
    region = labels == best + 1
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    return region, (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def find_object(colours: np.ndarray, colour: str, expected_shape: str | None = None) -> tuple[ObjectVerdict, np.ndarray | None]:
    """Find one object by colour: the largest 4-connected region covering >= 1 % of the canvas.

    The fill ratio counts only visible pixels: pixels of other palette colours inside the box
    (an occluder) leave the denominator, so a partly hidden object keeps its shape.
    """
    idx = PALETTE_NAMES.index(colour)
    region, box = _find(colours, idx, MIN_REGION_FRACTION * colours.size)
    if region is None:
        return ObjectVerdict(False, None, False, None, 0.0, False), None
    x0, y0, x1, y1 = box
    inside = colours[y0:y1, x0:x1]
    occluded = ((inside >= 0) & (inside != idx) & (inside != len(COLOURS))).sum()
    fill = float(region[y0:y1, x0:x1].sum()) / max(box_area(box) - occluded, 1)
    shape = classify_shape(fill)
    return ObjectVerdict(True, shape, shape == expected_shape, box, fill, True), region


def _in_front(a: ObjectVerdict, b: ObjectVerdict, colours: np.ndarray, idx_a: int, idx_b: int) -> bool:
    """Whether A is drawn over B: their boxes overlap by >= 15 % of the smaller, and where both
    shapes (as classified) would cover a pixel, A's colour is seen more than B's."""
    if overlap_area(a.box, b.box) < DEPTH_MIN_OVERLAP * min(box_area(a.box), box_area(b.box)):
        return False
    h, w = colours.shape
    both = _ideal_mask(a, h, w) & _ideal_mask(b, h, w)
    seen = colours[both]
    return int((seen == idx_a).sum()) > int((seen == idx_b).sum())


def _ideal_mask(obj: ObjectVerdict, h: int, w: int) -> np.ndarray:
    x0, y0, x1, y1 = obj.box
    side = max(x1 - x0, y1 - y0)
    mask = np.zeros((h + side, w + side), bool)
    mask[y0:y0 + side, x0:x0 + side] = shape_mask(obj.shape, side)
    return mask[:h, :w]


def verify(image: Any, scene: Scene, version: str = SCORE_VERSION) -> Verdict:
    """Judge an image against a scene from its pixels alone, under scoring `version` ("v1.1" or "v1")."""
    if version not in SCORE_VERSIONS:
        raise ValueError(f"unknown verifier version {version!r}; choose one of {SCORE_VERSIONS}")
    colours = colour_map(to_rgb_array(image))
    seen = [find_object(colours, o.colour, o.shape) for o in scene.objects]
    if version != "v1":  # v1.1: found only with the right shape
        seen = [(replace(o, found=o.shape_ok), region if o.shape_ok else None) for o, region in seen]
    objects = tuple(o for o, _ in seen)
    verdicts = []
    for rel in scene.relations:
        a, b = objects[rel.subject], objects[rel.object]
        if not (a.found and b.found):
            verdicts.append(False)
        elif rel.is_depth:
            front, back = (rel.subject, rel.object) if rel.phrase == FRONT else (rel.object, rel.subject)
            ia, ib = (PALETTE_NAMES.index(scene.objects[i].colour) for i in (front, back))
            verdicts.append(_in_front(objects[front], objects[back], colours, ia, ib))
        else:
            verdicts.append(planar_relation_holds(rel.phrase, a.box, b.box))
    return Verdict(objects, tuple(verdicts), clutter(colours, [region for _, region in seen]), version)


def clutter(colours: np.ndarray, regions: Sequence[np.ndarray | None]) -> float:
    """Fraction of the canvas whose colour is one of the six object colours, outside the given regions."""
    palette = (colours >= 0) & (colours < len(COLOURS))
    for region in regions:
        if region is not None:
            palette &= ~region
    return float(palette.sum()) / colours.size


def verify_batch(images: Sequence[Any], scenes: Sequence[Scene], version: str = SCORE_VERSION) -> list[Verdict]:
    """Judge several images, each against its scene."""
    if len(images) != len(scenes):
        raise ValueError(f"{len(images)} images but {len(scenes)} scenes")
    return [verify(im, sc, version) for im, sc in zip(images, scenes)]
