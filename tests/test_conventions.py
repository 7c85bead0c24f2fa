"""The peers' conventions (issue 16, part 1), each tested against the formula it names: Flow-GRPO's KL scale and
first-step noise, DanceGRPO's constant-eta step, every rollout step SDE, dropped zero-advantage samples, the stored
sample's precision, HPSv3's Monte Carlo bound, ties in Bradley-Terry; Flow-GRPO-Fast's per-trajectory branches."""

from __future__ import annotations

import math

import lightning as L
import numpy as np
import pytest
import torch

from datamodules import PromptDataModule
from modules.grpo import GRPOModule, trained_indices
from zoo.policy.flux import FluxPolicy, TinyFlux
from zoo.policy.sampler import branch_steps, sample, step
from zoo.reward.losses import BradleyTerry, UncertaintyLoss
from zoo.rl.grpo import clipped_ratio_loss, step_kl
from zoo.rl.rewards import Reward

TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


class Brightness(Reward):
    """Mean pixel value: varies by construction, so every group carries signal."""

    def forward(self, prompts, images, metas):
        return images.float().mean(dim=(1, 2, 3))


class StepLog(L.Callback):
    def __init__(self) -> None:
        self.stats: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, *args):
        self.stats.append(dict(pl_module.rl_stats))


def _fit(module, spatial_set, tmp_path, steps, batch_size=4, group_size=2, callbacks=()):
    data = PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"), batch_size=batch_size,
                            group_size=group_size, steps_per_epoch=50, seed=1)
    L.Trainer(max_steps=steps, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, limit_val_batches=0, default_root_dir=tmp_path,
              callbacks=list(callbacks)).fit(module, datamodule=data)


def _policy(dtype: str = "float32") -> FluxPolicy:
    torch.manual_seed(0)
    return FluxPolicy(tiny=TINY, guidance=1.0, dtype=dtype)


def _flow_grpo_std(sigma: float, sigma_next: float, a: float) -> float:
    """Flow-GRPO's std_dev_t: a sqrt(sigma / (1 - sigma)), with the next sigma in the denominator at sigma = 1."""
    return a * math.sqrt(sigma / (1 - (sigma_next if sigma == 1 else sigma)))


# KL scale -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma,sigma_next", [(1.0, 0.9), (0.7, 0.5), (0.3, 0.1)])
def test_kl_in_flow_grpo_convention_is_its_formula_and_the_exact_kl_times_dt(sigma, sigma_next):
    torch.manual_seed(0)
    x, v, v_ref, eps = torch.randn(3, 4, 6), torch.randn(3, 4, 6), torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    a, dt = 0.8, sigma_next - sigma
    current = step(x, v, sigma, sigma_next, a, "sde", noise=eps, first_std="flow_grpo")
    reference = step(x, v_ref, sigma, sigma_next, a, "sde", sample=current.sample, first_std="flow_grpo")
    kl = step_kl(current, reference, "sde")
    std_t = _flow_grpo_std(sigma, sigma_next, a)
    flow_grpo = ((current.mean - reference.mean) ** 2).mean(dim=(1, 2)) / (2 * std_t**2)  # Flow-GRPO's kl_loss
    assert torch.allclose(kl["flow_grpo"], flow_grpo, rtol=1e-5)
    normal = lambda m: torch.distributions.Normal(m, std_t * math.sqrt(-dt))  # noqa: E731
    exact = torch.distributions.kl_divergence(normal(current.mean), normal(reference.mean)).mean(dim=(1, 2))
    assert torch.allclose(kl["exact"], exact, rtol=1e-5)
    assert torch.allclose(kl["flow_grpo"] / kl["exact"], torch.full((3,), -dt), rtol=1e-5)  # beta_exact = beta |dt|
    cps = step(x, v, sigma, sigma_next, a, "cps", noise=eps)
    cps_kl = step_kl(cps, step(x, v_ref, sigma, sigma_next, a, "cps", sample=cps.sample), "cps")
    assert torch.equal(cps_kl["flow_grpo"], cps_kl["exact"])  # CPS's std has no sqrt(dt): one convention


def test_grpo_logs_both_kl_conventions_and_penalises_the_chosen_one(spatial_set, tmp_path):
    from zoo.policy.flux import LoraSpec

    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY, guidance=1.0, lora=LoraSpec(r=4, alpha=8))
    module = GRPOModule(policy, Brightness(), steps=4, beta=0.1, lr=1e-2, clip_range=0.2, kl="flow_grpo")
    _fit(module, spatial_set, tmp_path, 2)  # the second rollout's KL: the adapter has moved
    stats = module.rl_stats
    assert stats["kl_ref"] == stats["kl_flow_grpo"] and 0 < stats["kl_flow_grpo"] < stats["kl_exact"]
    with pytest.raises(ValueError, match="kl must be one of"):
        GRPOModule(_policy(), Brightness(), kl="flowgrpo")


# sigma = 1 -----------------------------------------------------------------------------------------------
def test_first_step_noise_reproduces_flow_grpo_at_sigma_one():
    torch.manual_seed(1)
    x, v, eps = torch.randn(2, 5, 3), torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    sigma, nxt, a = 1.0, 0.8, 0.9
    dt = nxt - sigma
    ours = step(x, v, sigma, nxt, a, "sde", noise=eps)
    peers = step(x, v, sigma, nxt, a, "sde", noise=eps, first_std="flow_grpo")
    for out, std_t in ((ours, a * math.sqrt(nxt / (1 - nxt))), (peers, a * math.sqrt(1 / (1 - nxt)))):
        mean = x + v * dt + std_t**2 / 2 * x * dt  # the SDE mean at sigma = 1: (1 - sigma) v vanishes
        assert torch.allclose(out.mean, mean, atol=1e-6)
        assert torch.allclose(out.sample, mean + std_t * math.sqrt(-dt) * eps, atol=1e-6)
    assert torch.allclose(peers.std / ours.std, torch.full((2,), 1 / math.sqrt(nxt)))
    later = step(x, v, 0.8, 0.6, a, "sde", noise=eps), step(x, v, 0.8, 0.6, a, "sde", noise=eps, first_std="flow_grpo")
    assert torch.equal(later[0].sample, later[1].sample)  # only sigma = 1 differs


# DanceGRPO -----------------------------------------------------------------------------------------------
def test_dance_step_has_constant_eta_noise_and_the_score_drift():
    torch.manual_seed(2)
    x, v, eps = torch.randn(3, 8), torch.randn(3, 8), torch.randn(3, 8)
    sigma, nxt, eta = 0.6, 0.45, 0.3
    out = step(x, v, sigma, nxt, eta, "dance", noise=eps)
    dsigma = nxt - sigma
    x0_hat = x - sigma * v
    score = -(x - x0_hat * (1 - sigma)) / sigma**2  # DanceGRPO's score estimate
    mean = x + dsigma * v - 0.5 * eta**2 * score * dsigma
    std = eta * math.sqrt(-dsigma)
    assert torch.allclose(out.mean, mean, atol=1e-6) and torch.allclose(out.sample, mean + std * eps, atol=1e-6)
    density = torch.distributions.Normal(mean, std).log_prob(out.sample).mean(1)
    assert torch.allclose(out.log_prob, density, atol=1e-5)
    first = step(x, v, 1.0, 0.9, eta, "dance", noise=eps)  # no singularity at sigma = 1
    assert torch.allclose(first.std, torch.full((3,), eta * math.sqrt(0.1)))


# every step SDE ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("untrained", ["ode", "sde"])
def test_untrained_rollout_steps_are_ode_or_sde_as_configured(untrained):
    module = GRPOModule(_policy(), Brightness(), steps=4, train_fraction=0.99, untrained_steps=untrained)
    sde, trained = module._step_masks(3)
    assert trained[:, :3].all() and not trained[:, 3].any()  # floor(4 * 0.99) = 3 trained steps
    assert bool(sde[:, 3].all()) == (untrained == "sde") and sde[:, :3].all()
    _, trajectories = module.policy.generate(["a red circle"] * 3, [1, 2, 3], steps=4, noise_level=0.7,
                                             sde_mask=sde, keep=True)
    traj = trajectories[0]
    last = step(traj.samples[3], module.policy.velocity(traj.samples[3], traj.sigmas[3],
                                                         module.policy.encode_text(["a red circle"] * 3)),
                traj.sigmas[3], traj.sigmas[4], 0.0)
    euler = torch.allclose(traj.samples[4], last.sample, atol=1e-6)
    assert euler == (untrained == "ode") and bool((traj.log_probs[:, 3] != 0).all()) == (untrained == "sde")


# zero-advantage samples ---------------------------------------------------------------------------------
def test_dropping_zero_advantage_rows_keeps_the_loss_scale_of_the_kept_ones():
    torch.manual_seed(3)
    new, old = torch.randn(8) * 0.01, torch.zeros(8)
    adv = torch.tensor([1.0, -1.0, 0.5, -0.5, 0.0, 0.0, 0.0, 0.0])
    keep = adv != 0
    ratio = new.exp()
    per_row = torch.maximum(-adv * ratio, -adv * ratio.clamp(0.9, 1.1))
    kept_only, _ = clipped_ratio_loss(new[:4], old[:4], adv[:4], 0.1)
    dropped, stats = clipped_ratio_loss(new, old, adv, 0.1, keep=keep)
    kept_in, _ = clipped_ratio_loss(new, old, adv, 0.1)
    assert math.isclose(dropped.item(), per_row[:4].mean().item(), rel_tol=1e-6)  # Flow-GRPO: removed before
    assert math.isclose(dropped.item(), kept_only.item(), rel_tol=1e-6)
    assert math.isclose(kept_in.item(), kept_only.item() / 2, rel_tol=1e-6)  # kept with A = 0: half the scale
    assert math.isclose(stats["ratio_max"].item(), ratio[:4].max().item(), rel_tol=1e-6)
    nothing, _ = clipped_ratio_loss(new, old, torch.zeros(8), 0.1, keep=torch.zeros(8, dtype=torch.bool))
    assert nothing.item() == 0.0


def test_grpo_with_dropped_zero_advantage_samples_trains_on_policy(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Brightness(), steps=4, noise_level=0.7, minibatches=2, lr=1e-3, clip_range=0.2,
                        zero_advantage="drop", top_k=1)  # groups of 4: the best and worst train
    log = StepLog()
    _fit(module, spatial_set, tmp_path, 2, batch_size=8, group_size=4, callbacks=[log])
    assert log.stats[0]["kept_fraction"] == 0.5
    assert log.stats[0]["first_ratio_min"] == log.stats[0]["first_ratio_max"] == 1.0


# precision of the stored sample -------------------------------------------------------------------------
def test_a_stored_low_precision_sample_is_rescored_exactly():
    torch.manual_seed(4)
    x, v, eps = torch.randn(4, 64).bfloat16(), torch.randn(4, 64).bfloat16(), torch.randn(4, 64)
    out = step(x, v, 0.5, 0.3, 0.9, "sde", noise=eps)
    assert out.sample.dtype == torch.bfloat16
    rescored = step(x, v, 0.5, 0.3, 0.9, "sde", sample=out.sample)
    assert torch.equal(rescored.log_prob, out.log_prob)  # ratio exactly 1, not 1.0002


def test_first_update_is_on_policy_with_a_bf16_policy(spatial_set, tmp_path):
    module = GRPOModule(_policy("bfloat16"), Brightness(), steps=4, noise_level=0.7, lr=1e-3, clip_range=1e-4)
    _fit(module, spatial_set, tmp_path, 1)
    assert module.policy.transformer.dtype == torch.bfloat16
    assert module.rl_stats["first_ratio_min"] == module.rl_stats["first_ratio_max"] == 1.0


# Flow-GRPO-Fast: per-trajectory branches ----------------------------------------------------------------
def test_branch_steps_give_each_trajectory_its_own_window_in_range():
    gen = torch.Generator().manual_seed(0)
    mask = branch_steps(10, 200, width=2, start_range=(1, 6), generator=gen)
    starts = mask.float().argmax(1)
    assert (mask.sum(1) == 2).all() and mask[torch.arange(200), starts + 1].all()
    assert set(starts.tolist()) == {1, 2, 3, 4} and not mask[:, 0].any() and not mask[:, 6:].any()
    assert trained_indices(mask).tolist()[0] == [int(starts[0]), int(starts[0]) + 1]
    with pytest.raises(ValueError, match="does not fit"):
        branch_steps(4, 2, width=3)


def test_per_row_sde_masks_sample_sde_only_at_each_rows_branch():
    weight = torch.randn(8, 8) * 0.1
    mask = torch.tensor([[True, False, False], [False, False, True]])
    traj = sample(lambda x, sigma: x @ weight + sigma, torch.randn(2, 8), [1.0, 0.6, 0.3, 0.0], [5, 6], 0.7,
                  sde_mask=mask)
    assert torch.equal(traj.log_probs != 0, mask) and torch.equal(traj.sde, mask)


def test_flow_grpo_fast_trains_one_branch_step_per_trajectory_on_policy(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Brightness(), steps=6, noise_level=0.7, minibatches=2, lr=1e-3, clip_range=0.2,
                        sde_branch=1, branch_range=(0, 4))
    sde, trained = module._step_masks(8)
    assert torch.equal(sde, trained) and (trained.sum(1) == 1).all()
    assert len(set(trained.float().argmax(1).tolist())) > 1  # branch points differ between trajectories
    _fit(module, spatial_set, tmp_path, 2, batch_size=8, group_size=4)
    assert module.rl_stats["first_ratio_min"] == module.rl_stats["first_ratio_max"] == 1.0


# reward-model losses -------------------------------------------------------------------------------------
def _gauss_hermite(fn, dmu: float, var: float, n: int = 80) -> float:
    """E[fn(z)], z ~ N(dmu, var), by Gauss-Hermite quadrature (an independent reference to the Monte Carlo)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(n)
    return float((weights * fn(dmu + math.sqrt(var) * nodes)).sum() / math.sqrt(2 * math.pi))


def test_uncertainty_losses_are_the_likelihood_and_hpsv3s_bound():
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    chosen = torch.tensor([[1.0, math.log(0.8)], [-1.0, math.log(1.2)]])
    rejected = torch.tensor([[0.0, math.log(0.5)], [0.5, math.log(0.6)]])
    pairs = [(1.0, 0.8**2 + 0.5**2), (-1.5, 1.2**2 + 0.6**2)]
    likelihood = np.mean([-math.log(_gauss_hermite(sigmoid, d, v)) for d, v in pairs])
    bound = np.mean([_gauss_hermite(lambda z: np.log1p(np.exp(-z)), d, v) for d, v in pairs])
    torch.manual_seed(5)
    loss = lambda method: UncertaintyLoss(method, samples=400_000)(chosen, rejected).item()  # noqa: E731
    assert loss("mc_likelihood") == pytest.approx(likelihood, abs=3e-3)
    assert loss("mc") == pytest.approx(likelihood, abs=3e-3)
    assert loss("mc_bound") == pytest.approx(bound, abs=3e-3)
    assert bound > likelihood + 0.05  # Jensen: the bound is above


def test_on_a_wrongly_ranked_pair_the_likelihood_grows_sigma_and_the_bound_shrinks_it():
    def sigma_grad(method: str) -> float:
        log_sigma = torch.tensor(0.0, requires_grad=True)
        chosen = torch.stack([torch.tensor(-2.0), log_sigma])[None]
        torch.manual_seed(6)
        UncertaintyLoss(method, samples=100_000)(chosen, torch.tensor([[0.0, 0.0]])).backward()
        return log_sigma.grad.item()

    assert sigma_grad("probit") < 0 and sigma_grad("mc_likelihood") < 0  # descent raises sigma
    assert sigma_grad("mc_bound") > 0  # descent lowers sigma


def test_bradley_terry_leaves_tied_pairs_out():
    chosen, rejected = torch.tensor([[2.0], [0.0], [1.0]]), torch.tensor([[1.0], [3.0], [1.0]])
    tie = torch.tensor([False, True, False])
    untied = (math.log1p(math.exp(-1.0)) + math.log(2)) / 2
    assert BradleyTerry()(chosen, rejected, tie).item() == pytest.approx(untied, rel=1e-6)
    d = torch.tensor([[0.5]], requires_grad=True)
    all_tied = BradleyTerry()(d, torch.zeros(1, 1), torch.tensor([True]))
    all_tied.backward()
    assert all_tied.item() == 0.0 and d.grad.item() == 0.0
