"""Layout-pretrained text conditioning for tiny policies: a T5 encoder trained so that each object word's state says
the object's colour, its shape and where the scene puts it.

Flux.1's T5-XXL arrives pretrained on text; a tiny policy's random frozen T5 is a bag of words (each token's state
is its embedding plus the prompt's mean), so "a red square left of a blue circle" and "a blue square left of a red
circle" condition alike. Pretraining the tiny T5 on the world's captions with a per-token layout objective
(the caption-to-layout stage of layout-guided text-to-image models, here folded into the text encoder) gives the
policy text states in which binding (which colour goes with which shape) and placement (where each object goes) are
already resolved. The encoder stays frozen during SFT and RL; it is saved with the policy.

Targets, per token of the T5 tokenizer: for each word that names an object (its colour word and its shape word, at
every mention), the object's colour, its shape, and the cell of a `grid` x `grid` partition of the canvas that holds
its box centre. Other tokens have no target (-100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.world.spec import COLOURS, SHAPES

__all__ = ["IGNORE", "LayoutHead", "LayoutTargets", "layout_loss", "layout_targets"]

IGNORE = -100
COLOUR_IDS = {c: i for i, c in enumerate(COLOURS)}
SHAPE_IDS = {s: i for i, s in enumerate(SHAPES)}


@dataclass
class LayoutTargets:
    """A batch of tokenised prompts with per-token targets (IGNORE where a token names no object)."""

    input_ids: torch.Tensor  # (B, L)
    attention_mask: torch.Tensor  # (B, L)
    colour: torch.Tensor  # (B, L)
    shape: torch.Tensor  # (B, L)
    cell: torch.Tensor  # (B, L)

    def to(self, device) -> "LayoutTargets":
        """The same targets on `device`."""
        return LayoutTargets(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.colour, self.shape,
                                                      self.cell)))


def centre_cell(box: Sequence[float], image_size: int, grid: int) -> int:
    """Row-major index of the `grid` x `grid` cell holding the box centre."""
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    col = min(grid - 1, max(0, int(cx * grid / image_size)))
    row = min(grid - 1, max(0, int(cy * grid / image_size)))
    return row * grid + col


def word_objects(prompt: str, objects: Sequence[dict[str, str]]) -> list[tuple[int, int, int]]:
    """(start, end, object index) of every colour and shape word of `prompt` that names one of the scene's objects
    (colours are unique in a scene; a shape word belongs to the colour word just before it)."""
    by_colour = {o["colour"]: i for i, o in enumerate(objects)}
    spans, pos, current = [], 0, None
    for word in prompt.replace(",", " ").split():
        start = prompt.index(word, pos)
        pos = start + len(word)
        if word in by_colour:
            current = by_colour[word]
            spans.append((start, pos, current))
        elif word in SHAPE_IDS and current is not None and objects[current]["shape"] == word:
            spans.append((start, pos, current))
            current = None
        else:
            current = None if word not in ("a", "an", "the") else current
    return spans


def layout_targets(tokenizer, prompts: Sequence[str], scenes: Sequence[dict[str, Any]], boxes: Sequence[Sequence],
                   image_size: int | Sequence[int], grid: int, max_length: int) -> LayoutTargets:
    """Tokenise `prompts` (padded to `max_length`, as the policy does) and mark each token that overlaps an object
    word with that object's colour, shape and centre cell; `scenes[i]["objects"]` and `boxes[i]` (pixels of a canvas
    of side `image_size`, one for all prompts or one per prompt) describe prompt i's image."""
    sizes = [image_size] * len(prompts) if isinstance(image_size, int) else list(image_size)
    enc = tokenizer(list(prompts), padding="max_length", max_length=max_length, truncation=True,
                    return_offsets_mapping=True, return_tensors="pt")
    colour = torch.full(enc.input_ids.shape, IGNORE, dtype=torch.long)
    shape, cell = colour.clone(), colour.clone()
    for row, (prompt, scene, box_list, size) in enumerate(zip(prompts, scenes, boxes, sizes)):
        objects = scene["objects"]
        spans = word_objects(prompt, objects)
        for col, (start, end) in enumerate(enc.offset_mapping[row].tolist()):
            if end <= start:
                continue
            hit = next((i for s, e, i in spans if start < e and end > s), None)
            if hit is None:
                continue
            colour[row, col] = COLOUR_IDS[objects[hit]["colour"]]
            shape[row, col] = SHAPE_IDS[objects[hit]["shape"]]
            cell[row, col] = centre_cell(box_list[hit], size, grid)
    return LayoutTargets(enc.input_ids, enc.attention_mask, colour, shape, cell)


class LayoutHead(nn.Module):
    """Linear read-outs of a token state: colour, shape and centre cell logits (used in pretraining only)."""

    def __init__(self, width: int, grid: int) -> None:
        super().__init__()
        self.colour = nn.Linear(width, len(COLOURS))
        self.shape = nn.Linear(width, len(SHAPES))
        self.cell = nn.Linear(width, grid * grid)

    def forward(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(colour, shape, cell) logits for (B, L, width) states."""
        return self.colour(states), self.shape(states), self.cell(states)


def layout_loss(encoder: nn.Module, head: LayoutHead, targets: LayoutTargets) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of the three cross-entropies over the object tokens, and each read-out's accuracy there."""
    states = encoder(targets.input_ids, attention_mask=targets.attention_mask).last_hidden_state
    logits = head(states)
    labels = (targets.colour, targets.shape, targets.cell)
    loss = sum(F.cross_entropy(lg.flatten(0, 1), lb.flatten(), ignore_index=IGNORE) for lg, lb in zip(logits, labels))
    metrics = {}
    for name, lg, lb in zip(("colour", "shape", "cell"), logits, labels):
        keep = lb != IGNORE
        metrics[f"{name}_accuracy"] = float((lg.argmax(-1)[keep] == lb[keep]).float().mean()) if keep.any() else 0.0
    return loss, metrics
