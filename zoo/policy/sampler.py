"""Flow-matching sampling with per-step log-probabilities (Flow-GRPO), as pure tensor code.

Notation (algorithms.md): sigma runs from 1 (noise) to 0 (image); the model predicts the velocity
v; a step goes sigma -> sigma_next with dt = sigma_next - sigma < 0. Log-probabilities are computed
in fp32 and averaged over dimensions (so ratios sit near 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

KINDS = ("sde", "cps")


@dataclass
class Step:
    """One sampler step: the next sample, its log-probability under the step's Gaussian, mean and std."""

    sample: torch.Tensor
    log_prob: torch.Tensor  # (B,), zeros for a deterministic (ODE) step
    mean: torch.Tensor
    std: torch.Tensor  # scalar: the std of the step's noise (0 for ODE)


def _mean_over_dims(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


def step(x: torch.Tensor, v: torch.Tensor, sigma: float, sigma_next: float, noise_level: float, kind: str = "sde",
         noise: torch.Tensor | None = None, sample: torch.Tensor | None = None) -> Step:
    """One SDE ("sde") or coefficient-preserving ("cps") step; noise_level 0 is the Euler (ODE) step.

    Give `noise` (standard normal, shape of x) to draw the next sample, or `sample` to evaluate the
    log-probability of a stored one (the ratio in GRPO's update).
    """
    if kind not in KINDS:
        raise ValueError(f"sampler kind must be one of {KINDS}, got {kind!r}")
    x32, v32 = x.float(), v.float()
    dt = sigma_next - sigma
    if noise_level == 0:
        mean = x32 + v32 * dt
        out = mean if sample is None else sample.float()
        return Step(out.to(x.dtype), torch.zeros(x.shape[0], device=x.device), mean, torch.tensor(0.0))
    if kind == "sde":
        s = sigma_next if sigma >= 1 else sigma  # at sigma = 1 the fraction is infinite: use the next sigma
        std_t = noise_level * math.sqrt(s / (1 - s))
        mean = x32 + v32 * dt + (std_t**2 / (2 * sigma)) * (x32 + (1 - sigma) * v32) * dt
        std = std_t * math.sqrt(-dt)
    else:
        std = sigma_next * math.sin(noise_level * math.pi / 2)
        x0, x1 = x32 - sigma * v32, x32 + (1 - sigma) * v32
        mean = (1 - sigma_next) * x0 + math.sqrt(max(sigma_next**2 - std**2, 0.0)) * x1
    if sample is None:
        if noise is None:
            raise ValueError("give noise to draw a sample, or sample to score one")
        sample = mean + std * noise.float()
    sample32 = sample.float()
    if kind == "sde":
        log_prob = -((sample32 - mean) ** 2) / (2 * std**2) - math.log(std) - 0.5 * math.log(2 * math.pi)
        log_prob = _mean_over_dims(log_prob)
    else:
        log_prob = -_mean_over_dims((sample32 - mean) ** 2)
    return Step(sample32.to(x.dtype), log_prob, mean, torch.tensor(std))


def sde_steps(num_steps: int, fraction: float | None = 0.99, window: int | None = None,
              generator: torch.Generator | None = None) -> tuple[list[bool], list[bool]]:
    """Which steps use the SDE and which are trained.

    fraction: the first floor(T * fraction) steps are SDE steps and trained (0.99 drops the last).
    window: w consecutive SDE steps starting at a random index in [0, T/2 - w], ODE elsewhere; only
    the window is trained (Flow-GRPO's cheaper variant). Exactly one of the two.
    """
    if (fraction is None) == (window is None):
        raise ValueError("give exactly one of fraction or window")
    if window is not None:
        last = num_steps // 2 - window
        if window < 1 or last < 0:
            raise ValueError(f"an SDE window of {window} does not fit in the first half of {num_steps} steps")
        start = int(torch.randint(0, last + 1, (1,), generator=generator))
        mask = [start <= i < start + window for i in range(num_steps)]
        return mask, list(mask)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    count = int(math.floor(num_steps * fraction))
    mask = [i < count for i in range(num_steps)]
    return mask, list(mask)


def seeded_noise(seeds: Sequence[int], shape: Sequence[int], salt: int = 0, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal noise, one tensor of `shape` per seed, drawn from a generator per (seed, salt):
    the same seed gives the same noise whatever the batch it is in."""
    out = []
    for seed in seeds:
        gen = torch.Generator().manual_seed((int(seed) * 1_000_003 + salt) % (2**63 - 1))
        out.append(torch.randn(tuple(shape), generator=gen, dtype=torch.float32))
    return torch.stack(out).to(device=device, dtype=dtype)


@dataclass
class Trajectory:
    """A sampled trajectory: samples x_0..x_T (x_0 is noise), per-step log-probs, which steps were SDE."""

    samples: list[torch.Tensor]
    log_probs: torch.Tensor  # (B, T)
    sigmas: list[float]
    sde: list[bool]

    @property
    def final(self) -> torch.Tensor:
        """The last sample (the generated latents)."""
        return self.samples[-1]


def sample(velocity: Callable[[torch.Tensor, float], torch.Tensor], noise: torch.Tensor, sigmas: Sequence[float],
           seeds: Sequence[int], noise_level: float = 0.0, kind: str = "sde", sde_mask: Sequence[bool] | None = None,
           keep: bool = True) -> Trajectory:
    """Integrate from noise (sigma = sigmas[0]) to sigmas[-1] with `velocity(x, sigma)`.

    SDE steps (per `sde_mask`, all by default) use `noise_level`; the others are Euler steps. Step
    noise comes from `seeded_noise(seeds, salt=step + 1)`, so results do not depend on batching.
    """
    steps = len(sigmas) - 1
    sde_mask = list(sde_mask) if sde_mask is not None else [True] * steps
    x = noise
    samples, log_probs = [x] if keep else [], []
    for i in range(steps):
        level = noise_level if sde_mask[i] else 0.0
        eps = seeded_noise(seeds, x.shape[1:], salt=i + 1, device=x.device) if level > 0 else None
        out = step(x, velocity(x, sigmas[i]), float(sigmas[i]), float(sigmas[i + 1]), level, kind, noise=eps)
        x = out.sample
        log_probs.append(out.log_prob)
        if keep:
            samples.append(x)
    return Trajectory(samples if keep else [x], torch.stack(log_probs, 1), [float(s) for s in sigmas], sde_mask)
