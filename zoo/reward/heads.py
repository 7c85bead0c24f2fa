"""Reward heads, kept in fp32: linear to one score, or an MLP to (mean, log sigma) for the uncertainty loss."""

from __future__ import annotations

import torch
from torch import nn


class LinearHead(nn.Module):
    """hidden -> 1 (plain Bradley-Terry)."""

    outputs = 1

    def __init__(self, hidden_size: int, init_scale: float | None = None) -> None:
        super().__init__()
        self.proj = nn.Linear(hidden_size, 1)
        if init_scale is not None:  # e.g. CLIP: the logit scale on every weight gives its similarity
            nn.init.constant_(self.proj.weight, init_scale)
            nn.init.zeros_(self.proj.bias)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(pooled.float())


class MLPHead(nn.Module):
    """hidden -> 1024 -> 16 -> 2 = (mu, log sigma), as HPSv3; `hidden_sizes` configurable."""

    outputs = 2

    def __init__(self, hidden_size: int, hidden_sizes: tuple[int, ...] = (1024, 16)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = hidden_size
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled.float())


def mean_score(out: torch.Tensor) -> torch.Tensor:
    """The score used for ranking and as a reward: the only output, or mu of (mu, log sigma)."""
    return out[..., 0]
