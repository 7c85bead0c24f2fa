"""Rasterise world-v1 scenes: exact shape masks on a white canvas, no anti-aliasing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from zoo.world.scene import WorldObject
from zoo.world.spec import COLOURS, WHITE


@dataclass(frozen=True)
class Layout:
    """Integer pixel boxes [x0, y0, x1, y1) per object and the drawing order (back to front)."""

    boxes: tuple[tuple[int, int, int, int], ...]
    order: tuple[int, ...]

    def to_json(self) -> list[list[int]]:
        """Boxes as lists, as stored in shards."""
        return [list(b) for b in self.boxes]


@lru_cache(maxsize=4096)
def shape_mask(shape: str, side: int) -> np.ndarray:
    """Boolean mask of a shape filling a side x side box, sampled at pixel centres.

    The circle is the inscribed disc; the triangle has its apex at the top centre and its base
    along the bottom row. Every mask touches all four edges of its box, so the box of the drawn
    region is the object's box.
    """
    centres = np.arange(side) + 0.5
    x = centres[None, :]
    y = centres[:, None]
    half = side / 2.0
    if shape == "square":
        mask = np.ones((side, side), bool)
    elif shape == "circle":
        mask = (x - half) ** 2 + (y - half) ** 2 <= half**2
    elif shape == "triangle":
        half_width = np.maximum((np.arange(side)[:, None] + 1) / 2.0, 0.5)
        mask = np.abs(x - half) <= half_width
    else:
        raise ValueError(f"unknown shape {shape!r}")
    mask.setflags(write=False)
    return mask


def render(objects: Sequence[WorldObject], layout: Layout, size: int) -> np.ndarray:
    """Draw objects into a size x size RGB uint8 image, back to front."""
    image = np.empty((size, size, 3), np.uint8)
    image[...] = WHITE
    for idx in layout.order:
        x0, y0, x1, y1 = layout.boxes[idx]
        obj = objects[idx]
        mask = shape_mask(obj.shape, x1 - x0)
        image[y0:y1, x0:x1][mask] = COLOURS[obj.colour]
    return image
