"""Images for benchmark items from a policy, one rule for every entry point (`zoo bench`, `zoo policy eval`, the
benchmark callback): image k of an item has the seed `image_seed(seed, item id, k)`, and items are generated in
batches of `batch_size` in their order, so the same policy gives the same images, and numbers, everywhere."""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import torch

from zoo.bench.prompts import BenchItem
from zoo.images import to_uint8


def image_seed(seed: int, item_id: str, k: int) -> int:
    """The seed of image k of a prompt: a function of the run seed, the item and k only (not of batching)."""
    return (seed * 1_000_003 + zlib.crc32(f"{item_id}/{k}".encode())) % 2**31


@torch.no_grad()
def policy_images(policy, todo: Sequence[tuple[BenchItem, int]], steps: int, seed: int,
                  batch_size: int = 32) -> list[np.ndarray]:
    """uint8 HxWx3 images of (item, k) pairs from a FlowPolicy (ODE sampling, `steps` steps), `batch_size` at a time."""
    arrays: list[np.ndarray] = []
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        images, _ = policy.generate([item.prompt for item, _ in chunk],
                                    [image_seed(seed, item.id, k) for item, k in chunk], steps=steps)
        arrays += list(to_uint8(images))
    return arrays
