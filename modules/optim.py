"""The optimiser shared by the modules: AdamW (no decay on biases, norms, embeddings) with linear warm-up."""

from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn


def adamw_with_warmup(named_params: Iterable[tuple[str, nn.Parameter]], lr: float, weight_decay: float,
                      warmup_steps: int, betas: tuple[float, float] = (0.9, 0.999), cosine_steps: int | None = None,
                      min_lr_ratio: float = 0.05) -> dict:
    """Lightning's optimizer dict for the trainable parameters: AdamW with a per-step linear warm-up to `lr`,
    then constant, or (with `cosine_steps`) a cosine decay to `min_lr_ratio * lr` at that step."""
    decay, no_decay = [], []
    for name, param in named_params:
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "embed" in name or "norm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=tuple(betas))
    warmup = max(warmup_steps, 0)

    def factor(step: int) -> float:
        ramp = min(1.0, (step + 1) / (warmup + 1))
        if not cosine_steps:
            return ramp
        progress = min(step, cosine_steps) / cosine_steps
        return ramp * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
