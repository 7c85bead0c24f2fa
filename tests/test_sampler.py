"""The flow-matching SDE sampler: log-probabilities, the ODE limit, step selection, batch invariance."""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from zoo.policy.sampler import sample, sde_steps, seeded_noise, step


def _gaussian_logpdf_mean(x, mean, std):
    """Independent reference: torch.distributions.Normal, averaged over dimensions."""
    return torch.distributions.Normal(mean, std).log_prob(x).reshape(x.shape[0], -1).mean(1)


@pytest.mark.parametrize("sigma,sigma_next", [(0.8, 0.6), (1.0, 0.9), (0.3, 0.05)])
def test_sde_log_prob_matches_a_gaussian_density(sigma, sigma_next):
    torch.manual_seed(0)
    x, v, eps = torch.randn(3, 4, 5), torch.randn(3, 4, 5), torch.randn(3, 4, 5)
    a = 0.9
    out = step(x, v, sigma, sigma_next, a, "sde", noise=eps)
    dt = sigma_next - sigma
    s = sigma_next if sigma >= 1 else sigma
    std_t = a * math.sqrt(s / (1 - s))
    mean = x + v * dt + std_t**2 / (2 * sigma) * (x + (1 - sigma) * v) * dt
    std = std_t * math.sqrt(-dt)
    assert torch.allclose(out.mean, mean, atol=1e-6)
    assert torch.allclose(out.sample, mean + std * eps, atol=1e-6)
    assert torch.allclose(out.log_prob, _gaussian_logpdf_mean(out.sample, mean, std), atol=1e-5)
    rescored = step(x, v, sigma, sigma_next, a, "sde", sample=out.sample)
    assert torch.equal(rescored.log_prob, out.log_prob)


def test_cps_step_and_its_log_prob():
    torch.manual_seed(1)
    x, v, eps = torch.randn(2, 8), torch.randn(2, 8), torch.randn(2, 8)
    sigma, nxt, a = 0.7, 0.5, 0.8
    out = step(x, v, sigma, nxt, a, "cps", noise=eps)
    std = nxt * math.sin(a * math.pi / 2)
    mean = (1 - nxt) * (x - sigma * v) + math.sqrt(nxt**2 - std**2) * (x + (1 - sigma) * v)
    assert torch.allclose(out.sample, mean + std * eps, atol=1e-6)
    assert torch.allclose(out.log_prob, -((out.sample - mean) ** 2).mean(1), atol=1e-6)


def test_noise_level_zero_is_the_schedulers_euler_step():
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    scheduler.set_timesteps(6)
    torch.manual_seed(2)
    x = torch.randn(2, 16, 8)
    for i, t in enumerate(scheduler.timesteps[:-1]):
        v = torch.randn_like(x)
        expected = scheduler.step(v, t, x, return_dict=False)[0]
        ours = step(x, v, float(scheduler.sigmas[i]), float(scheduler.sigmas[i + 1]), 0.0).sample
        assert torch.allclose(ours, expected, atol=1e-6)
        x = expected


def test_step_selection_by_fraction_and_window():
    sde, train = sde_steps(10, fraction=0.99)
    assert sde == train == [True] * 9 + [False]
    gen = torch.Generator().manual_seed(0)
    starts = set()
    for _ in range(50):
        sde, train = sde_steps(12, fraction=None, window=2, generator=gen)
        assert sum(sde) == 2 and sde == train
        start = sde.index(True)
        assert sde[start + 1] and 0 <= start <= 12 // 2 - 2
        starts.add(start)
    assert len(starts) > 1
    with pytest.raises(ValueError, match="does not fit"):
        sde_steps(6, fraction=None, window=4)


def test_same_seed_same_images_at_any_batch_size():
    weight = torch.randn(8, 8) * 0.1

    def velocity(x, sigma):  # a fixed, per-sample "model"
        return x @ weight + sigma

    sigmas = torch.linspace(1, 0, 5).tolist()
    seeds = [11, 12, 13, 14]
    noise = seeded_noise(seeds, (3, 8))
    full = sample(velocity, noise, sigmas, seeds, noise_level=0.7)
    pieces = [sample(velocity, seeded_noise([s], (3, 8)), sigmas, [s], noise_level=0.7) for s in seeds]
    assert torch.allclose(full.final, torch.cat([p.final for p in pieces]), atol=1e-6)
    assert torch.allclose(full.log_probs, torch.cat([p.log_probs for p in pieces]), atol=1e-6)
    other = sample(velocity, seeded_noise([99], (3, 8)), sigmas, [99], noise_level=0.7)
    assert not torch.allclose(other.final, pieces[0].final)
