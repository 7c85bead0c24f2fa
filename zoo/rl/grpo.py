"""Flow-GRPO's arithmetic as pure tensor functions: group advantages, the clipped ratio loss, the KL penalty (in
both published conventions), and the per-step log-probability of a stored rollout under the current policy
(algorithms.md section 2; docs/rl.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from zoo.policy.sampler import Step, Trajectory, step

KL_CONVENTIONS = ("exact", "flow_grpo")


@dataclass
class Advantages:
    """Per-sample advantages, which samples train (finite reward, group with signal), and group statistics."""

    values: torch.Tensor  # (N,), 0 where not kept
    keep: torch.Tensor  # (N,) bool
    groups: int
    zero_variance_groups: int
    dropped_samples: int  # non-finite rewards
    finite: torch.Tensor | None = None  # (N,) bool: the samples whose reward is known


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
    return Advantages(values, keep, len(ids), zero, int((~finite).sum()), finite)



def mixed_advantages(parts: dict[str, torch.Tensor], weights: dict[str, float], mode: str, groups: torch.Tensor,
                     std: str = "batch", clip: float = 5.0, top_k: int | None = None) -> Advantages:
    """Group advantages of named rewards: mode "sum", of their weighted sum; mode "advantage", of each reward
    separately, summed with the weights (a sample trains when any reward's group has signal and no reward failed)."""
    adv = lambda r: group_advantages(r, groups, std, clip, top_k=top_k)  # noqa: E731
    if mode == "sum":
        return adv(sum(weights[name] * parts[name] for name in weights))
    if mode != "advantage":
        raise ValueError(f"mode must be 'sum' or 'advantage', got {mode!r}")
    each = {name: adv(r) for name, r in parts.items()}
    failed = torch.stack([~torch.isfinite(r) for r in parts.values()]).any(0)
    keep = torch.stack([a.keep for a in each.values()]).any(0) & ~failed
    values = sum(weights[n] * a.values for n, a in each.items()) * keep
    first = next(iter(each.values()))
    return Advantages(values, keep, first.groups, min(a.zero_variance_groups for a in each.values()),
                      int(failed.sum()), ~failed)

def clipped_ratio_loss(log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip_range: float,
                       keep: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO's clipped objective: mean(max(-A r, -A clip(r, 1 - eps, 1 + eps))), r = exp(logp - logp_old); with the ratio
    statistics (mean, min, max, clip fraction, approx KL = mean (logp - logp_old)^2 / 2).

    keep: when given, only these rows count: the loss is their sum over their number (Flow-GRPO removes samples with
    zero advantage before the update, so the loss scale does not follow the kept fraction), 0 when none is kept;
    without it every row counts in the mean (rows with A = 0 add 0 to the sum but count in the denominator).
    """
    diff = log_prob - old_log_prob
    ratio = torch.exp(diff)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - clip_range, 1 + clip_range)
    per_row = torch.maximum(unclipped, clipped)
    rows = torch.ones_like(per_row, dtype=torch.bool) if keep is None else keep.bool()
    loss = masked_mean(per_row, rows)
    with torch.no_grad():
        seen = ratio[rows] if bool(rows.any()) else ratio
        stats = {"ratio_mean": seen.mean(), "ratio_min": seen.min(), "ratio_max": seen.max(),
                 "clip_fraction": ((seen - 1).abs() > clip_range).float().mean(),
                 "approx_kl": 0.5 * (diff[rows] ** 2).mean() if bool(rows.any()) else diff.new_zeros(())}
    return loss, stats


def masked_mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of the kept rows (0, still attached to the graph, when none is kept)."""
    keep = keep.to(values.dtype)
    return (values * keep).sum() / keep.sum().clamp(min=1)


def kl_to_reference(mean: torch.Tensor, ref_mean: torch.Tensor, std: torch.Tensor | float) -> torch.Tensor:
    """Per-sample KL between two Gaussians with the same std (a scalar or one per sample): mean over dims of
    (mu - mu_ref)^2 / (2 std^2)."""
    std = torch.as_tensor(std, dtype=torch.float32, device=mean.device)
    d = (mean.float() - ref_mean.float()) ** 2
    return d.reshape(d.shape[0], -1).mean(1) / (2 * std.clamp(min=1e-8) ** 2)


def step_kl(current: Step, reference: Step, kind: str) -> dict[str, torch.Tensor]:
    """Per-sample KL of one step's Gaussian to the reference's, in both conventions (docs/rl.md):

    "exact": the Gaussian KL per dimension, ||mu - mu_ref||^2 / (2 std^2) with the step's noise std
    (std = std_t sqrt(|dt|) for "sde"/"dance"); "flow_grpo": Flow-GRPO's training code, ||mu - mu_ref||^2 / (2 std_t^2)
    without the sqrt(|dt|), i.e. the exact KL times |dt| ("cps" has no |dt| in its std: the two agree).
    A beta tuned in one convention: beta_exact = beta_flow_grpo |dt| per step.
    """
    exact = kl_to_reference(current.mean, reference.mean, current.std)
    scale = current.dt.abs().to(exact.device) if kind in ("sde", "dance") else torch.ones_like(exact)
    return {"exact": exact, "flow_grpo": exact * scale}


def step_log_prob(velocity: Callable[[torch.Tensor, float | torch.Tensor], torch.Tensor], trajectory: Trajectory,
                  index: int | torch.Tensor, noise_level: float, kind: str, first_std: str = "next_sigma") -> Step:
    """The stored transition x_i -> x_{i+1} of a trajectory under `velocity` (the current policy; with gradients when
    enabled): log p, mean, std, dt. index: one step for all rows, or one step per row (B,)."""
    x, nxt, sigma, sigma_next = trajectory.at(index)
    return step(x, velocity(x, sigma), sigma, sigma_next, noise_level, kind, sample=nxt, first_std=first_std)
