"""Flow-matching sampling with per-step log-probabilities (Flow-GRPO), as pure tensor code.

Notation (algorithms.md): sigma runs from 1 (noise) to 0 (image); the model predicts the velocity
v; a step goes sigma -> sigma_next with dt = sigma_next - sigma < 0. Log-probabilities are computed
in fp32 and averaged over dimensions (so ratios sit near 1). sigma and sigma_next may be floats or one
value per sample (B,), so that each trajectory can train its own steps (Flow-GRPO-Fast style branches).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

KINDS = ("sde", "cps", "dance")
FIRST_STD = ("next_sigma", "flow_grpo")


@dataclass
class Step:
    """One sampler step: the next sample, its log-probability under the step's Gaussian, mean, std and dt."""

    sample: torch.Tensor
    log_prob: torch.Tensor  # (B,), zeros for a deterministic (ODE) step
    mean: torch.Tensor
    std: torch.Tensor  # (B,): the std of the step's noise (0 for ODE)
    dt: torch.Tensor  # (B,): sigma_next - sigma


def _mean_over_dims(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


def _per_row(value: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A float or (B,) values as a float32 (B,) tensor on x's device."""
    t = torch.as_tensor(value, dtype=torch.float32, device=x.device)
    return t.expand(x.shape[0]) if t.ndim == 0 else t


def _bcast(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return t.view(-1, *[1] * (x.ndim - 1))


def sde_std(sigma: torch.Tensor, sigma_next: torch.Tensor, noise_level: float, kind: str = "sde",
            first_std: str = "next_sigma") -> torch.Tensor:
    """The diffusion coefficient std_t of the SDE step (before the sqrt(-dt) of the step's noise).

    "sde" (Flow-GRPO): a sqrt(sigma / (1 - sigma)); at sigma = 1 the fraction is infinite, so "next_sigma" uses
    a sqrt(sigma' / (1 - sigma')) there and "flow_grpo" Flow-GRPO's a sqrt(1 / (1 - sigma')) (2 % more noise at
    the first step of a 6-step Flux schedule). "dance" (DanceGRPO): the constant a.
    """
    if first_std not in FIRST_STD:
        raise ValueError(f"first_std must be one of {FIRST_STD}, got {first_std!r}")
    if kind == "dance":
        return torch.full_like(sigma, noise_level)
    s = torch.where(sigma >= 1, sigma_next, sigma)
    top = s if first_std == "next_sigma" else sigma.clamp(max=1.0)
    return noise_level * torch.sqrt(top / (1 - s))


def step(x: torch.Tensor, v: torch.Tensor, sigma: float | torch.Tensor, sigma_next: float | torch.Tensor,
         noise_level: float, kind: str = "sde", noise: torch.Tensor | None = None, sample: torch.Tensor | None = None,
         first_std: str = "next_sigma") -> Step:
    """One SDE ("sde": Flow-GRPO; "dance": DanceGRPO's constant-eta noise) or coefficient-preserving ("cps") step;
    noise_level 0 is the Euler (ODE) step.

    Give `noise` (standard normal, shape of x) to draw the next sample, or `sample` to evaluate the
    log-probability of a stored one (the ratio in GRPO's update). A drawn sample is returned in x's dtype and its
    log-probability is taken on exactly that tensor, so re-scoring the stored sample gives the same value.
    """
    if kind not in KINDS:
        raise ValueError(f"sampler kind must be one of {KINDS}, got {kind!r}")
    x32, v32 = x.float(), v.float()
    s, s_next = _per_row(sigma, x), _per_row(sigma_next, x)
    dt = s_next - s
    sb, nb, db = _bcast(s, x), _bcast(s_next, x), _bcast(dt, x)
    if noise_level == 0:
        mean = x32 + v32 * db
        out = mean if sample is None else sample.float()
        zeros = torch.zeros(x.shape[0], device=x.device)
        return Step(out.to(x.dtype), zeros, mean, zeros, dt)
    if kind in ("sde", "dance"):
        std_t = _bcast(sde_std(s, s_next, noise_level, kind, first_std), x)
        mean = x32 + v32 * db + (std_t**2 / (2 * sb)) * (x32 + (1 - sb) * v32) * db
        std = std_t * torch.sqrt(-db)
    else:
        std = nb * math.sin(noise_level * math.pi / 2)
        x0, x1 = x32 - sb * v32, x32 + (1 - sb) * v32
        mean = (1 - nb) * x0 + torch.sqrt((nb**2 - std**2).clamp(min=0.0)) * x1
    if sample is None:
        if noise is None:
            raise ValueError("give noise to draw a sample, or sample to score one")
        sample = (mean + std * noise.float()).to(x.dtype)  # stored as x's dtype: the log-prob is of this tensor
    sample32 = sample.float()
    if kind == "cps":
        log_prob = -_mean_over_dims((sample32 - mean) ** 2)
    else:
        log_prob = -((sample32 - mean) ** 2) / (2 * std**2) - torch.log(std) - 0.5 * math.log(2 * math.pi)
        log_prob = _mean_over_dims(log_prob)
    return Step(sample.to(x.dtype), log_prob, mean, std.reshape(-1), dt)


def sde_steps(num_steps: int, fraction: float | None = 0.99, window: int | None = None,
              generator: torch.Generator | None = None) -> tuple[list[bool], list[bool]]:
    """Which steps use the SDE and which are trained (the same for every sample of a rollout).

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


def branch_steps(num_steps: int, rows: int, width: int = 1, start_range: tuple[int, int] | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Flow-GRPO-Fast style branches: each trajectory (row) takes `width` consecutive SDE steps from its own random
    branch point in [start_range[0], start_range[1] - width] (default: the first half of the steps), ODE elsewhere;
    only those steps are trained. Returns the (rows, num_steps) bool mask."""
    lo, hi = start_range if start_range is not None else (0, num_steps // 2)
    if width < 1 or lo < 0 or hi > num_steps or hi - width < lo:
        raise ValueError(f"a branch of {width} SDE steps does not fit in steps [{lo}, {hi}) of {num_steps}")
    start = torch.randint(lo, hi - width + 1, (rows, 1), generator=generator)
    index = torch.arange(num_steps)[None, :]
    return (index >= start) & (index < start + width)


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
    """A sampled trajectory: samples x_0..x_T (x_0 is noise), per-step log-probs, which steps were SDE (B, T)."""

    samples: list[torch.Tensor]
    log_probs: torch.Tensor  # (B, T)
    sigmas: list[float]
    sde: torch.Tensor  # (B, T) bool

    @property
    def final(self) -> torch.Tensor:
        """The last sample (the generated latents)."""
        return self.samples[-1]

    def at(self, index: int | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float | torch.Tensor,
                                                       float | torch.Tensor]:
        """(x_i, x_{i+1}, sigma_i, sigma_{i+1}) of step `index`: one step for all rows, or one per row (B,)."""
        if isinstance(index, int):
            return self.samples[index], self.samples[index + 1], self.sigmas[index], self.sigmas[index + 1]
        picks = index.tolist()
        x = torch.stack([self.samples[i][b] for b, i in enumerate(picks)])
        nxt = torch.stack([self.samples[i + 1][b] for b, i in enumerate(picks)])
        sigmas = torch.tensor(self.sigmas, dtype=torch.float64)
        return x, nxt, sigmas[index].float(), sigmas[index + 1].float()


def _row_mask(sde_mask: Sequence[bool] | torch.Tensor | None, rows: int, steps: int) -> torch.Tensor:
    if sde_mask is None:
        return torch.ones(rows, steps, dtype=torch.bool)
    mask = torch.as_tensor(sde_mask, dtype=torch.bool)
    mask = mask.expand(rows, steps) if mask.ndim == 1 else mask
    if mask.shape != (rows, steps):
        raise ValueError(f"sde_mask must have {steps} steps (or {rows} rows of them), got shape {tuple(mask.shape)}")
    return mask.clone()


def sample(velocity: Callable[[torch.Tensor, float], torch.Tensor], noise: torch.Tensor, sigmas: Sequence[float],
           seeds: Sequence[int], noise_level: float = 0.0, kind: str = "sde",
           sde_mask: Sequence[bool] | torch.Tensor | None = None, keep: bool = True,
           first_std: str = "next_sigma") -> Trajectory:
    """Integrate from noise (sigma = sigmas[0]) to sigmas[-1] with `velocity(x, sigma)`.

    SDE steps (per `sde_mask`: (T,) for all rows or (B, T) per row; all steps by default) use `noise_level`; the
    others are Euler steps. Step noise comes from `seeded_noise(seeds, salt=step + 1)`, so results do not depend
    on batching.
    """
    steps = len(sigmas) - 1
    mask = _row_mask(sde_mask, noise.shape[0], steps)
    x = noise
    samples, log_probs = [x] if keep else [], []
    for i in range(steps):
        rows = mask[:, i].to(x.device)
        sigma, nxt = float(sigmas[i]), float(sigmas[i + 1])
        v = velocity(x, sigma)
        if noise_level > 0 and bool(rows.any()):
            eps = seeded_noise(seeds, x.shape[1:], salt=i + 1, device=x.device)
            out = step(x, v, sigma, nxt, noise_level, kind, noise=eps, first_std=first_std)
            if not bool(rows.all()):  # some trajectories take an Euler step here
                ode = step(x, v, sigma, nxt, 0.0)
                out = Step(torch.where(_bcast(rows, x), out.sample, ode.sample),
                           torch.where(rows, out.log_prob, ode.log_prob), out.mean, out.std, out.dt)
        else:
            out = step(x, v, sigma, nxt, 0.0)
        x = out.sample
        log_probs.append(out.log_prob)
        if keep:
            samples.append(x)
    return Trajectory(samples if keep else [x], torch.stack(log_probs, 1), [float(s) for s in sigmas],
                      mask & (noise_level > 0))
