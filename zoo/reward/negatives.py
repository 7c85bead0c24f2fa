"""Extra hard negatives for SpatialScore training on world-v1 pairs: the right layout with an object missing,
with an object drawn in the wrong shape, or with colour splatter over it.

Relation pairs alone never show the reward an image that lacks an object, so a policy can raise such a reward
by drawing fewer objects (measured: with relation pairs only, the tiny SpatialScore's within-group rank
correlation with "objects found" on SFT-policy samples was -0.12, and GRPO on it lost objects). Erasing one
object from the chosen image gives a negative that differs in exactly that. Nor do they show clutter: GRPO
on a reward trained with missing-object negatives learned to fill the canvas with specks of every colour
(SpatialScore up, verified relations down); splattering palette-coloured specks over the chosen image
gives that negative. World v1.1 counts an object only with its right shape, and relation pairs never show a
wrong shape either (both images hold the same objects): redrawing one object of the chosen image as another
shape, in the same box and colour, gives that negative. A policy sampled with classifier-free guidance draws some
objects twice (the clutter world v1.1 counts), and relation pairs never show a duplicate: copying one object's box of
the chosen image to an empty place gives that negative.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from PIL import Image

from zoo.world.render import shape_mask
from zoo.world.spec import COLOURS, SHAPES, WHITE

PALETTE = np.array(list(COLOURS.values()), dtype=np.uint8)


def _boxes(meta: dict[str, Any], side: int) -> list[tuple[int, int, int, int]]:
    """The chosen image's object boxes (`chosen_boxes`, x0 y0 x1 y1) scaled to a canvas of `side` pixels."""
    scale = side / float(meta.get("image_size", side))
    return [tuple(int(round(v * scale)) for v in box) for box in meta["chosen_boxes"]]


def erase_object(image: Image.Image, meta: dict[str, Any], index: int) -> Image.Image:
    """The image with object `index` painted white: its colour's pixels inside its box (`chosen_boxes`,
    scaled to the image's size); an occluding object of another colour stays."""
    array = np.array(image.convert("RGB"))
    x0, y0, x1, y1 = _boxes(meta, array.shape[0])[index]
    colour = np.array(COLOURS[meta["objects"][index]["colour"]], dtype=np.int16)
    region = array[y0:y1, x0:x1]
    close = (np.abs(region.astype(np.int16) - colour).sum(-1) <= 48)  # the flat colour, and box-filtered edges
    region[close] = WHITE
    return Image.fromarray(array)


def wrong_shape(image: Image.Image, meta: dict[str, Any], index: int, rng: np.random.Generator) -> Image.Image:
    """The image with object `index` erased and drawn again in its box and colour as another shape (drawn over
    whatever overlaps it)."""
    array = np.array(erase_object(image, meta, index))
    x0, y0, x1, y1 = _boxes(meta, array.shape[0])[index]
    obj = meta["objects"][index]
    others = [s for s in SHAPES if s != obj["shape"]]
    side = min(x1 - x0, y1 - y0)
    array[y0:y0 + side, x0:x0 + side][shape_mask(others[int(rng.integers(len(others)))], side)] = COLOURS[obj["colour"]]
    return Image.fromarray(array)


def duplicate_object(image: Image.Image, meta: dict[str, Any], index: int,
                     rng: np.random.Generator, adjacent: bool = False) -> Image.Image | None:
    """The image with object `index`'s box copied to a place that overlaps no object's box (up to 50 random tries;
    `adjacent`: one of the 8 places touching the original, in random order), so the prompt's object appears twice;
    None where no such place was found."""
    array = np.array(image.convert("RGB"))
    side = array.shape[0]
    boxes = _boxes(meta, side)
    x0, y0, x1, y1 = boxes[index]
    h, w = y1 - y0, x1 - x0
    if not 0 < h < side or not 0 < w < side:
        return None
    if adjacent:
        shifts = [(dy, dx) for dy in (-h, 0, h) for dx in (-w, 0, w) if (dy, dx) != (0, 0)]
        places = [(y0 + shifts[i][0], x0 + shifts[i][1]) for i in rng.permutation(len(shifts))]
    else:
        places = (tuple(int(v) for v in rng.integers(0, (side - h + 1, side - w + 1))) for _ in range(50))
    for y, x in places:
        inside = 0 <= y <= side - h and 0 <= x <= side - w
        if inside and all(x + w <= a or b <= x or y + h <= c or d <= y for a, c, b, d in boxes):
            array[y:y + h, x:x + w] = array[y0:y1, x0:x1].copy()
            return Image.fromarray(array)
    return None


def splatter(image: Image.Image, rng: np.random.Generator, specks: tuple[int, int] = (20, 80)) -> Image.Image:
    """The image with square specks (1/32 to 1/16 of the side) of random palette colours at random places."""
    array = np.array(image.convert("RGB"))
    side = array.shape[0]
    for _ in range(int(rng.integers(*specks))):
        size = int(rng.integers(max(1, side // 32), max(2, side // 16) + 1))
        y, x = (int(v) for v in rng.integers(0, side - size + 1, 2))
        array[y:y + size, x:x + size] = PALETTE[rng.integers(len(PALETTE))]
    return Image.fromarray(array)


class HardNegatives:
    """For a fraction of training pairs (chosen per pair key and seed, so a resumed run sees the same),
    replace the rejected image by the chosen one with one object erased (`missing_object`), with colour
    specks splattered over it (`clutter`), with one object redrawn as another shape (`wrong_shape`) or with
    one object drawn a second time in an empty place (`duplicate`; of those, the fraction `adjacent` right next to
    the original, as a policy that hedges draws it); the prompt stays the original."""

    def __init__(self, missing_object: float = 0.0, clutter: float = 0.0, seed: int = 0,
                 wrong_shape: float = 0.0, duplicate: float = 0.0, adjacent: float = 0.0) -> None:
        fractions = (missing_object, clutter, wrong_shape, duplicate)
        if min(fractions) < 0 or sum(fractions) > 1:
            raise ValueError(f"negative fractions must be >= 0 and sum to <= 1, got missing_object={missing_object}, "
                             f"clutter={clutter}, wrong_shape={wrong_shape}, duplicate={duplicate}")
        self.missing_object, self.clutter, self.seed = missing_object, clutter, seed
        if not 0 <= adjacent <= 1:
            raise ValueError(f"adjacent must be a fraction in [0, 1], got {adjacent}")
        self.wrong_shape, self.duplicate, self.adjacent = wrong_shape, duplicate, adjacent

    @property
    def enabled(self) -> bool:
        """Whether any fraction is above zero (else the pairs pass unchanged)."""
        return any((self.missing_object, self.clutter, self.wrong_shape, self.duplicate))

    def __call__(self, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for s in samples:
            meta = s["meta"]
            digest = hashlib.sha256(f"{self.seed}/{s['key']}".encode()).digest()  # crc32 of similar keys correlates
            rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
            u = rng.random()
            if u < self.missing_object and meta.get("chosen_boxes") and meta.get("objects"):
                index = int(rng.integers(len(meta["objects"])))
                s = {**s, "rejected": erase_object(s["chosen"], meta, index),
                     "meta": {**meta, "negative": f"missing object {index}"}}
            elif self.missing_object <= u < self.missing_object + self.clutter:
                s = {**s, "rejected": splatter(s["chosen"], rng), "meta": {**meta, "negative": "clutter"}}
            elif (u < self.missing_object + self.clutter + self.wrong_shape and meta.get("chosen_boxes")
                  and meta.get("objects")):
                index = int(rng.integers(len(meta["objects"])))
                s = {**s, "rejected": wrong_shape(s["chosen"], meta, index, rng),
                     "meta": {**meta, "negative": f"wrong shape {index}"}}
            elif (u < self.missing_object + self.clutter + self.wrong_shape + self.duplicate and
                  meta.get("chosen_boxes") and meta.get("objects")):
                index = int(rng.integers(len(meta["objects"])))
                # no extra draw when off: the same pairs as before the option
                near = self.adjacent > 0 and bool(rng.random() < self.adjacent)
                if (twice := duplicate_object(s["chosen"], meta, index, rng, adjacent=near)) is not None:
                    kind = "adjacent duplicate" if near else "duplicate"
                    s = {**s, "rejected": twice, "meta": {**meta, "negative": f"{kind} {index}"}}
            out.append(s)
        return out
