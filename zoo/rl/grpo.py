"""Flow-GRPO's arithmetic as pure tensor functions: group advantages, the clipped ratio loss, the KL penalty,
and the per-step log-probability of a stored rollout under the current policy (algorithms.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from zoo.policy.sampler import Trajectory, step


@dataclass
class Advantages:
    """Per-sample advantages, which samples train (finite reward, group with signal), and group statistics."""

    values: torch.Tensor  # (N,), 0 where not kept
    keep: torch.Tensor  # (N,) bool
    groups: int
    zero_variance_groups: int
    dropped_samples: int  # non-finite rewards


def group_advantages(rewards: torch.Tensor, groups: torch.Tensor, std: str = "batch", clip: float = 5.0,
                     eps: float = 1e-4, top_k: int | None = None) -> Advantages:
    """A = (r - mean of its group) / (std + eps), clipped to +-clip.

    std: "group" (each group's own std) or "batch" (the std of all finite rewards; Flow-GRPO's default).
    Non-finite rewards (a reward that failed) leave their group and train nothing; groups whose finite
    rewards are all equal carry no signal and are dropped. top_k: keep only the k highest and k lowest
    rewards of each group (the paper's balance of good and bad samples).
    """
    if std not in ("group", "batch"):
        raise ValueError(f"std must be 'group' or 'batch', got {std!r}")
    rewards = rewards.float()
    finite = torch.isfinite(rewards)
    values = torch.zeros_like(rewards)
    keep = torch.zeros_like(finite)
    batch_std = rewards[finite].std(unbiased=False) if finite.sum() > 1 else rewards.new_tensor(0.0)
    ids = groups.unique()
    zero = 0
    for g in ids:
        members = (groups == g) & finite
        r = rewards[members]
        if r.numel() < 2 or bool((r == r[0]).all()):
            zero += 1
            continue
        scale = r.std(unbiased=False) if std == "group" else batch_std
        values[members] = ((r - r.mean()) / (scale + eps)).clamp(-clip, clip)
        chosen = members.clone()
        if top_k is not None and r.numel() > 2 * top_k:
            index = members.nonzero().squeeze(1)
            order = r.argsort()
            chosen.zero_()
            chosen[index[order[:top_k]]] = True
            chosen[index[order[-top_k:]]] = True
        keep |= chosen
    values = torch.where(keep, values, torch.zeros_like(values))
    return Advantages(values, keep, len(ids), zero, int((~finite).sum()))


def clipped_ratio_loss(log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor,
                       clip_range: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped objective: mean(max(-A r, -A clip(r, 1 - eps, 1 + eps))), r = exp(logp - logp_old);
    with the ratio statistics (mean, min, max, clip fraction, approx KL = mean (logp - logp_old)^2 / 2)."""
    diff = log_prob - old_log_prob
    ratio = torch.exp(diff)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - clip_range, 1 + clip_range)
    loss = torch.maximum(unclipped, clipped).mean()
    with torch.no_grad():
        stats = {"ratio_mean": ratio.mean(), "ratio_min": ratio.min(), "ratio_max": ratio.max(),
                 "clip_fraction": ((ratio - 1).abs() > clip_range).float().mean(),
                 "approx_kl": 0.5 * (diff**2).mean()}
    return loss, stats


def kl_to_reference(mean: torch.Tensor, ref_mean: torch.Tensor, std: torch.Tensor | float) -> torch.Tensor:
    """Per-sample KL between two Gaussians with the same std: mean over dims of (mu - mu_ref)^2 / (2 std^2)."""
    std = torch.as_tensor(std, dtype=torch.float32)
    d = (mean.float() - ref_mean.float()) ** 2
    return d.reshape(d.shape[0], -1).mean(1) / (2 * std.clamp(min=1e-8) ** 2)


def step_log_prob(velocity: Callable[[torch.Tensor, float], torch.Tensor], trajectory: Trajectory, index: int,
                  noise_level: float, kind: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(log p, mean, std) of the stored transition x_i -> x_{i+1} of a trajectory under `velocity`
    (the current policy; with gradients when enabled)."""
    x, nxt = trajectory.samples[index], trajectory.samples[index + 1]
    sigma, sigma_next = trajectory.sigmas[index], trajectory.sigmas[index + 1]
    out = step(x, velocity(x, sigma), sigma, sigma_next, noise_level, kind, sample=nxt)
    return out.log_prob, out.mean, out.std
