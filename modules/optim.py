"""The optimiser shared by the modules: AdamW (no decay on biases, norms, embeddings) with linear warm-up."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn


def adamw_with_warmup(named_params: Iterable[tuple[str, nn.Parameter]], lr: float, weight_decay: float,
                      warmup_steps: int, betas: tuple[float, float] = (0.9, 0.999)) -> dict:
    """Lightning's optimizer dict for the trainable parameters: AdamW, then a per-step linear warm-up to `lr`."""
    decay, no_decay = [], []
    for name, param in named_params:
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "embed" in name or "norm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=tuple(betas))
    warmup = max(warmup_steps, 0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / (warmup + 1)))
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
