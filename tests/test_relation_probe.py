"""benchmarks/relation_probe.py: one row per phrase and word order, offsets measured from the pixels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from relation_probe import DIRECTIONS, centroid, probe  # noqa: E402

from zoo.policy.flux import FluxPolicy, TinyFlux  # noqa: E402
from zoo.world.verify import PALETTE, PALETTE_NAMES, colour_map  # noqa: E402


def test_centroids_come_from_the_palette_colours_of_the_pixels():
    image = np.full((32, 32, 3), 255, dtype=np.uint8)
    image[4:12, 2:10] = PALETTE[PALETTE_NAMES.index("red")]
    image[20:28, 20:28] = PALETTE[PALETTE_NAMES.index("blue")]
    colours = colour_map(image)
    red, blue = centroid(colours, PALETTE_NAMES.index("red")), centroid(colours, PALETTE_NAMES.index("blue"))
    assert red == (5.5, 7.5) and blue == (23.5, 23.5)  # (x, y): red left of and above blue
    assert centroid(colours, PALETTE_NAMES.index("green")) is None


def test_the_probe_asks_every_phrase_in_both_word_orders():
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32), guidance=1.0)
    rows = probe(policy, ("red", "square"), ("blue", "circle"), images=2, steps=1)
    assert len(rows) == 2 * len(DIRECTIONS)
    assert rows[0]["prompt"] == "a red square to the left of a blue circle"
    assert rows[1]["prompt"] == "a blue circle to the left of a red square"
    assert all(0 <= r["both"] <= 2 for r in rows)
