"""DiffusionNFT's arithmetic (Zheng et al., ICLR 2026, "Online Diffusion Reinforcement with Forward Process") as
pure tensor functions: the optimality weight, the implicit positive and negative policies, the flow-matching loss on
clean samples that contrasts them, and the schedule of the sampling policy's soft update (docs/rl.md)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

WEIGHTINGS = ("adaptive", "velocity")


def optimality_weight(advantages: torch.Tensor, clip: float) -> torch.Tensor:
    """r in [0, 1] from group advantages: r = 1/2 + clip(A, -c, c) / (2 c) (1/2 for a sample no better than its
    group, 1 for the best clipped one)."""
    if clip <= 0:
        raise ValueError(f"the advantage clip must be > 0, got {clip}")
    return (0.5 + advantages.float().clamp(-clip, clip) / (2 * clip)).clamp(0, 1)


def implicit_policies(v_theta: torch.Tensor, v_old: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The implicit positive and negative velocities: v+ = (1 - beta) v_old + beta v_theta and
    v- = (1 + beta) v_old - beta v_theta (mirror images of v_theta about v_old, at strength beta)."""
    return (1 - beta) * v_old + beta * v_theta, (1 + beta) * v_old - beta * v_theta


@dataclass
class NFTLoss:
    """Per-sample loss (B,) and its parts (B,): the positive and the negative flow-matching errors."""

    loss: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


def _error(v: torch.Tensor, target: torch.Tensor, t: torch.Tensor, weighting: str) -> torch.Tensor:
    """Flow-matching error of a velocity. "velocity": mean (v - target)^2. "adaptive": the clean-sample error
    ||x0_hat - x0||^2 = t^2 ||v - target||^2 divided by its own (gradient-free) mean absolute value, per sample."""
    if weighting == "velocity":
        return _per_sample((v - target) ** 2)
    if weighting != "adaptive":
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    diff = t.view(-1, *[1] * (v.ndim - 1)) * (target - v)  # x0_hat - x0, since x0_hat = x_t - t v
    scale = _per_sample(diff.detach().abs()).clamp(min=1e-5)
    return _per_sample(diff**2) / scale


def nft_loss(v_theta: torch.Tensor, v_old: torch.Tensor, target: torch.Tensor, t: torch.Tensor, r: torch.Tensor,
             beta: float, weighting: str = "adaptive") -> NFTLoss:
    """DiffusionNFT's policy loss per sample: (r E(v+) + (1 - r) E(v-)) / beta, E the flow-matching error to the
    target eps - x0 at x_t = (1 - t) x0 + t eps (see `_error`); v_old carries no gradient. Dividing by beta keeps
    the gradient's scale independent of beta (with the "velocity" error, at v_theta = v_old the gradient is
    2 (2 r - 1) (v_old - target) whatever beta)."""
    if beta <= 0:
        raise ValueError(f"the NFT strength beta must be > 0, got {beta}")
    v_theta, v_old, target = v_theta.float(), v_old.detach().float(), target.float()
    positive_v, negative_v = implicit_policies(v_theta, v_old, beta)
    positive, negative = _error(positive_v, target, t, weighting), _error(negative_v, target, t, weighting)
    return NFTLoss((r * positive + (1 - r) * negative) / beta, positive.detach(), negative.detach())


def sampling_decay(step: int, rate: float, cap: float, flat: int = 0) -> float:
    """How much of the old sampling policy a soft update keeps: 0 for the first `flat` steps (the sampling policy is
    the current one), then rate per step up to `cap` (DiffusionNFT: rate 0.001, cap 0.5; or flat 75, rate 0.0075,
    cap 0.999)."""
    if step < flat:
        return 0.0
    return min((step - flat) * rate, cap)


def training_times(sigmas: list[float], rows: int, count: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """(rows, count) noise levels for the loss: each row a random draw without replacement from the sampler's own
    schedule (the sigmas a step starts from, sigma = 0 excluded), as DiffusionNFT trains on the sampling timesteps."""
    levels = torch.tensor([s for s in sigmas if s > 0], dtype=torch.float32)
    if not 0 < count <= len(levels):
        raise ValueError(f"cannot train {count} noise levels per sample from a schedule of {len(levels)}")
    order = torch.stack([torch.randperm(len(levels), generator=generator) for _ in range(rows)])
    return levels[order[:, :count]]
