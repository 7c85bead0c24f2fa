"""The pixel-only verifier of world.md: find each object by colour, classify its shape, check relations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

from zoo.world.geometry import box_area, overlap_area, planar_relation_holds
from zoo.world.render import shape_mask
from zoo.world.scene import Scene
from zoo.world.spec import COLOUR_RADIUS, COLOURS, DEPTH_MIN_OVERLAP, FRONT, MIN_REGION_FRACTION, WHITE

PALETTE_NAMES = tuple(COLOURS) + ("white",)
PALETTE = np.array(list(COLOURS.values()) + [WHITE], dtype=np.float32)
# fill ratio of the region's box: triangle ~ 1/2, circle ~ pi/4, square ~ 1 (thresholds sit between
# the values that exact rasterisation gives from 7 px, the smallest box at 32 px, up to 153 px)
TRIANGLE_MAX_FILL = 0.69
CIRCLE_MAX_FILL = 0.90
FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class ObjectVerdict:
    """What the verifier saw of one object."""

    found: bool
    shape: str | None  # the classified shape, None when not found
    shape_ok: bool
    box: tuple[int, int, int, int] | None
    fill: float

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"found": self.found, "shape": self.shape, "shape_ok": self.shape_ok,
                "box": list(self.box) if self.box else None, "fill": round(self.fill, 4)}


@dataclass(frozen=True)
class Verdict:
    """Per-object and per-relation verdicts and the scene score (fraction of relations satisfied)."""

    objects: tuple[ObjectVerdict, ...]
    relations: tuple[bool, ...]
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
    def shapes_fraction(self) -> float:
        """Fraction of objects found with the right shape."""
        return float(np.mean([o.shape_ok for o in self.objects])) if self.objects else 1.0

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"score": self.score, "relations": list(self.relations), "objects": [o.to_json() for o in self.objects]}


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
        return ObjectVerdict(False, None, False, None, 0.0), None
    x0, y0, x1, y1 = box
    inside = colours[y0:y1, x0:x1]
    occluded = ((inside >= 0) & (inside != idx) & (inside != len(COLOURS))).sum()
    fill = float(region[y0:y1, x0:x1].sum()) / max(box_area(box) - occluded, 1)
    shape = classify_shape(fill)
    return ObjectVerdict(True, shape, shape == expected_shape, box, fill), region


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


def verify(image: Any, scene: Scene) -> Verdict:
    """Judge an image against a scene from its pixels alone."""
    colours = colour_map(to_rgb_array(image))
    objects = tuple(find_object(colours, o.colour, o.shape)[0] for o in scene.objects)
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
    return Verdict(objects, tuple(verdicts))


def verify_batch(images: Sequence[Any], scenes: Sequence[Scene]) -> list[Verdict]:
    """Judge several images, each against its scene."""
    if len(images) != len(scenes):
        raise ValueError(f"{len(images)} images but {len(scenes)} scenes")
    return [verify(im, sc) for im, sc in zip(images, scenes)]
