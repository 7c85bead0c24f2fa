"""Extra hard negatives for SpatialScore training on world-v1 pairs: the right layout with an object missing.

Relation pairs alone never show the reward an image that lacks an object, so a policy can raise such a reward
by drawing fewer objects (measured: with relation pairs only, the tiny SpatialScore's within-group rank
correlation with "objects found" on SFT-policy samples was -0.12, and GRPO on it lost objects). Erasing one
object from the chosen image gives a negative that differs in exactly that.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from PIL import Image

from zoo.world.spec import COLOURS, WHITE


def erase_object(image: Image.Image, meta: dict[str, Any], index: int) -> Image.Image:
    """The image with object `index` painted white: its colour's pixels inside its box (`chosen_boxes`,
    scaled to the image's size); an occluding object of another colour stays."""
    array = np.array(image.convert("RGB"))
    scale = array.shape[0] / float(meta.get("image_size", array.shape[0]))
    x0, y0, x1, y1 = (int(round(v * scale)) for v in meta["chosen_boxes"][index])
    colour = np.array(COLOURS[meta["objects"][index]["colour"]], dtype=np.int16)
    region = array[y0:y1, x0:x1]
    close = (np.abs(region.astype(np.int16) - colour).sum(-1) <= 48)  # the flat colour, and box-filtered edges
    region[close] = WHITE
    return Image.fromarray(array)


class MissingObjectNegatives:
    """For a `fraction` of training pairs (chosen per pair key and seed, so a resumed run sees the same),
    replace the rejected image by the chosen one with one object erased; the prompt stays the original."""

    def __init__(self, fraction: float, seed: int = 0) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"missing-object fraction must be in [0, 1], got {fraction}")
        self.fraction, self.seed = fraction, seed

    def __call__(self, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for s in samples:
            meta = s["meta"]
            rng = np.random.default_rng([self.seed, zlib.crc32(str(s["key"]).encode())])
            if rng.random() < self.fraction and meta.get("chosen_boxes") and meta.get("objects"):
                index = int(rng.integers(len(meta["objects"])))
                s = {**s, "rejected": erase_object(s["chosen"], meta, index),
                     "meta": {**meta, "negative": f"missing object {index}"}}
            out.append(s)
        return out
