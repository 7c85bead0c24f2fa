"""Preference losses on reward-head outputs: Bradley-Terry, BT with ties (Rao-Kupper), uncertainty."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from zoo.reward.heads import mean_score


class BradleyTerry(nn.Module):
    """-log sigmoid(s_chosen - s_rejected)."""

    def forward(self, chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor | None = None) -> torch.Tensor:
        return F.softplus(-(mean_score(chosen) - mean_score(rejected))).mean()


class BradleyTerryTies(nn.Module):
    """Rao-Kupper: untied -log sigmoid(d - log k); tied -log sigmoid(d - log k) - log sigmoid(-d - log k) - log(k^2 - 1)."""

    def __init__(self, k: float = 5.0) -> None:
        super().__init__()
        if k <= 1:
            raise ValueError(f"the tie parameter k must be > 1, got {k}")
        self.log_k = math.log(k)
        self.log_k2m1 = math.log(k * k - 1)

    def forward(self, chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor | None = None) -> torch.Tensor:
        d = mean_score(chosen) - mean_score(rejected)
        untied = F.softplus(-(d - self.log_k))
        if tie is None:
            return untied.mean()
        tied = untied + F.softplus(d + self.log_k) - self.log_k2m1
        return torch.where(tie.bool(), tied, untied).mean()


class UncertaintyLoss(nn.Module):
    """-log P(chosen > rejected) with scores N(mu, sigma^2): P = E[sigmoid(z)], z ~ N(mu_c - mu_r, s_c^2 + s_r^2).

    method "probit" (default) uses the closed form sigmoid(dmu / sqrt(1 + pi var / 8)); "mc" averages
    `samples` Monte Carlo draws (HPSv3).
    """

    def __init__(self, method: str = "probit", samples: int = 1000) -> None:
        super().__init__()
        if method not in ("probit", "mc"):
            raise ValueError(f"method must be 'probit' or 'mc', got {method!r}")
        self.method, self.samples = method, samples

    def forward(self, chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor | None = None) -> torch.Tensor:
        if chosen.shape[-1] != 2:
            raise ValueError("the uncertainty loss needs a head with 2 outputs (mu, log sigma), e.g. MLPHead")
        dmu = chosen[..., 0] - rejected[..., 0]
        var = torch.exp(2 * chosen[..., 1]) + torch.exp(2 * rejected[..., 1])
        if self.method == "probit":
            return F.softplus(-dmu / torch.sqrt(1 + math.pi * var / 8)).mean()
        z = dmu[..., None] + var.sqrt()[..., None] * torch.randn(*dmu.shape, self.samples, device=dmu.device)
        return -torch.log(torch.sigmoid(z).mean(-1).clamp_min(1e-12)).mean()
