"""Preference losses on reward-head outputs: Bradley-Terry, BT with ties (Rao-Kupper), uncertainty."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from zoo.reward.heads import mean_score

UNCERTAINTY_METHODS = ("probit", "mc_likelihood", "mc_bound")


def untied_mean(losses: torch.Tensor, tie: torch.Tensor | None) -> torch.Tensor:
    """Mean over the pairs not labelled as ties (a tie has no preferred side; 0, still attached to the graph, when
    every pair is a tie)."""
    if tie is None:
        return losses.mean()
    keep = (~tie.bool().to(losses.device)).to(losses.dtype)
    return (losses * keep).sum() / keep.sum().clamp(min=1)


class BradleyTerry(nn.Module):
    """-log sigmoid(s_chosen - s_rejected), over the untied pairs (train ties with BradleyTerryTies)."""

    def forward(self, chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor | None = None) -> torch.Tensor:
        return untied_mean(F.softplus(-(mean_score(chosen) - mean_score(rejected))), tie)


class BradleyTerryTies(nn.Module):
    """Rao-Kupper: untied -log sigmoid(d - log k);
    tied -log sigmoid(d - log k) - log sigmoid(-d - log k) - log(k^2 - 1)."""

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
    """Preference loss with Gaussian scores N(mu, sigma^2): z = s_c - s_r ~ N(mu_c - mu_r, s_c^2 + s_r^2).

    method:
        "probit" (default): -log P(chosen > rejected), P = E[sigmoid(z)], in the closed form
            sigmoid(dmu / sqrt(1 + pi var / 8)) (the probit approximation; deterministic).
        "mc_likelihood" (alias "mc"): the same -log E[sigmoid(z)], averaging `samples` Monte Carlo draws inside
            the log.
        "mc_bound": HPSv3's training code, E[-log sigmoid(z)] over the draws: the expected Bradley-Terry loss, an
            upper bound of the likelihood's (Jensen). On a wrongly ranked pair it shrinks sigma; the likelihood grows it.
    Pairs labelled as ties are left out, as in BradleyTerry.
    """

    def __init__(self, method: Literal["probit", "mc_likelihood", "mc_bound", "mc"] = "probit",
                 samples: int = 1000) -> None:
        super().__init__()
        method = "mc_likelihood" if method == "mc" else method
        if method not in UNCERTAINTY_METHODS:
            raise ValueError(f"method must be one of {UNCERTAINTY_METHODS} (or 'mc'), got {method!r}")
        self.method, self.samples = method, samples

    def forward(self, chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor | None = None) -> torch.Tensor:
        if chosen.shape[-1] != 2:
            raise ValueError("the uncertainty loss needs a head with 2 outputs (mu, log sigma), e.g. MLPHead")
        dmu = chosen[..., 0] - rejected[..., 0]
        var = torch.exp(2 * chosen[..., 1]) + torch.exp(2 * rejected[..., 1])
        if self.method == "probit":
            return untied_mean(F.softplus(-dmu / torch.sqrt(1 + math.pi * var / 8)), tie)
        z = dmu[..., None] + var.sqrt()[..., None] * torch.randn(*dmu.shape, self.samples, device=dmu.device)
        if self.method == "mc_bound":
            return untied_mean(F.softplus(-z).mean(-1), tie)
        return untied_mean(-torch.log(torch.sigmoid(z).mean(-1).clamp_min(1e-12)), tie)
