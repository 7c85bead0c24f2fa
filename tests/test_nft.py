"""DiffusionNFT: the optimality weight, implicit policies and loss against their formulas; the module learns a reward,
keeps its sampling policy one soft update behind, and resumes a killed run exactly."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from callbacks import EMACallback, RLStatsTracker
from datamodules import PromptDataModule
from modules.nft import DiffusionNFTModule
from modules.weights import trainable
from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.rl.nft import implicit_policies, nft_loss, optimality_weight, sampling_decay, training_times
from zoo.rl.rewards import Reward, VerifierReward

TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


class Brightness(Reward):
    """Mean pixel value: a reward any policy can raise by drawing brighter images (varies by construction)."""

    def forward(self, prompts, images, metas):
        return images.float().mean(dim=(1, 2, 3))


def _policy(lora: LoraSpec | None = None) -> FluxPolicy:
    torch.manual_seed(0)
    return FluxPolicy(tiny=TINY, guidance=1.0, lora=lora)


def _data(spatial_set, batch_size=4, group_size=2):
    return PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"), batch_size=batch_size,
                            group_size=group_size, steps_per_epoch=50, seed=1)


def _trainer(root, max_steps, callbacks=(), **kwargs):
    kwargs.setdefault("enable_checkpointing", False)
    return L.Trainer(max_steps=max_steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, limit_val_batches=0, default_root_dir=root,
                     callbacks=list(callbacks), **kwargs)


# the arithmetic ------------------------------------------------------------------------------------
def test_optimality_weight_and_implicit_policies_are_the_papers():
    adv = torch.tensor([-7.0, -5.0, -1.0, 0.0, 2.5, 9.0])
    assert optimality_weight(adv, 5.0).tolist() == pytest.approx([0.0, 0.0, 0.4, 0.5, 0.75, 1.0])
    v_theta, v_old = torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0])
    positive, negative = implicit_policies(v_theta, v_old, 0.1)
    assert torch.allclose(positive, 0.9 * v_old + 0.1 * v_theta)
    assert torch.allclose(negative, 1.1 * v_old - 0.1 * v_theta)
    assert torch.allclose((positive + negative) / 2, v_old)  # mirror images about the sampling policy


@pytest.mark.parametrize("weighting", ["velocity", "adaptive"])
def test_nft_loss_matches_its_formula(weighting):
    torch.manual_seed(0)
    v_theta, v_old, target = torch.randn(3, 4, 5), torch.randn(3, 4, 5), torch.randn(3, 4, 5)
    t, r, beta = torch.tensor([0.9, 0.5, 0.2]), torch.tensor([1.0, 0.3, 0.5]), 0.5
    out = nft_loss(v_theta, v_old, target, t, r, beta, weighting)
    expected = []
    for i in range(3):
        errors = []
        for v in ((1 - beta) * v_old[i] + beta * v_theta[i], (1 + beta) * v_old[i] - beta * v_theta[i]):
            if weighting == "velocity":
                errors.append(((v - target[i]) ** 2).mean())
            else:  # the clean-sample error x0_hat - x0 = t (target - v), over its mean absolute value
                diff = t[i] * (target[i] - v)
                errors.append((diff**2).mean() / diff.abs().mean())
        expected.append((r[i] * errors[0] + (1 - r[i]) * errors[1]) / beta)
    assert torch.allclose(out.loss, torch.stack(expected), rtol=1e-5)


def test_nft_gradient_at_the_sampling_policy_is_independent_of_beta():
    target, v_old = torch.randn(2, 6), torch.randn(2, 6)
    r = torch.tensor([0.9, 0.2])
    grads = []
    for beta in (0.1, 1.0):
        v = v_old.clone().requires_grad_(True)
        nft_loss(v, v_old, target, torch.ones(2), r, beta, "velocity").loss.sum().backward()
        grads.append(v.grad)
    expected = 2 * (2 * r[:, None] - 1) * (v_old - target) / 6  # per element of a 6-dim mean
    assert torch.allclose(grads[0], expected, atol=1e-6) and torch.allclose(grads[1], expected, atol=1e-6)


def test_sampling_decay_schedules_and_training_times():
    assert [sampling_decay(s, 0.001, 0.5) for s in (0, 100, 600)] == [0.0, 0.1, 0.5]
    assert [sampling_decay(s, 0.0075, 0.999, flat=75) for s in (10, 75, 175, 400)] == pytest.approx([0, 0, 0.75, 0.999])
    sigmas = [1.0, 0.8, 0.5, 0.2, 0.0]
    times = training_times(sigmas, 50, 3, torch.Generator().manual_seed(0))
    levels = torch.tensor([1.0, 0.8, 0.5, 0.2])
    assert times.shape == (50, 3) and torch.isin(times, levels).all()
    assert all(len(set(row.tolist())) == 3 for row in times)  # without replacement
    with pytest.raises(ValueError, match="cannot train 5 noise levels"):
        training_times(sigmas, 2, 5)


# the module ------------------------------------------------------------------------------------------
def test_nft_raises_a_reward_it_is_given_without_log_probs(spatial_set, tmp_path):
    module = DiffusionNFTModule(_policy(), Brightness(), steps=4, lr=3e-3, sampling_decay_rate=0.0,
                                sampling_decay_max=0.0)
    prompts = ["a red circle to the left of a blue square"] * 8

    def brightness() -> float:
        images, _ = module.policy.generate(prompts, list(range(8)), steps=4)
        return images.mean().item()

    before = brightness()
    _trainer(tmp_path, 6).fit(module, datamodule=_data(spatial_set, 8, 4))
    assert brightness() > before + 0.02
    stats = module.rl_stats
    assert "ratio_mean" not in stats and stats["positive_loss"] > 0 and 0 <= stats["r_mean"] <= 1


def test_the_sampling_policy_follows_by_a_soft_update(spatial_set, tmp_path):
    module = DiffusionNFTModule(_policy(), Brightness(), steps=4, lr=3e-3, sampling_decay_rate=0.25,
                                sampling_decay_max=0.5)
    start = {n: p.detach().clone() for n, p in trainable(module.policy).items()}
    _trainer(tmp_path, 1).fit(module, datamodule=_data(spatial_set))
    decay = module.rl_stats["sampling_decay"]
    assert decay == 0.25  # after optimizer step 1
    now = trainable(module.policy)
    for name, old in module.sampling.tensors.items():
        assert torch.allclose(old, decay * start[name] + (1 - decay) * now[name], atol=1e-6), name
    assert any(not torch.equal(module.sampling.tensors[n], now[n]) for n in now)


def test_a_killed_nft_run_resumes_with_the_same_sampling_policy_ema_and_weights(spatial_set, tmp_path):
    def module():  # LoRA with a KL to the adapter-free base: the checkpoint holds the adapters only
        return DiffusionNFTModule(_policy(LoraSpec(r=4, alpha=8)), VerifierReward(objects_weight=0.5), steps=3,
                                  minibatches=2, lr=3e-3, sampling_decay_rate=0.1, kl_weight=0.01)

    straight, ema_a = module(), EMACallback(decay=0.9, every_n_steps=2)
    _trainer(tmp_path / "a", 8, [ema_a, RLStatsTracker()]).fit(straight, datamodule=_data(spatial_set))
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=4, save_top_k=-1)
    _trainer(tmp_path / "b", 4, [EMACallback(decay=0.9, every_n_steps=2), ckpt], enable_checkpointing=True).fit(
        module(), datamodule=_data(spatial_set))
    path = next((tmp_path / "ckpt").glob("*step=4*"))
    saved = torch.load(path, map_location="cpu", weights_only=False)
    lora = {n for n, p in straight.named_parameters() if p.requires_grad}
    assert set(saved["state_dict"]) == lora and all("lora_" in k for k in lora)  # no frozen base weights
    assert set(saved["nft_sampling_policy"]) == {n.removeprefix("policy.") for n in lora}
    resumed, ema_c = module(), EMACallback(decay=0.9, every_n_steps=2)
    trainer = _trainer(tmp_path / "c", 8, [ema_c, RLStatsTracker()])
    trainer.fit(resumed, datamodule=_data(spatial_set), ckpt_path=str(path))
    assert trainer.global_step == 8
    for (name, a), b in zip(straight.policy.named_parameters(), resumed.policy.parameters()):
        assert torch.equal(a, b), name
    old_a, old_c = straight.sampling.tensors, resumed.sampling.tensors
    assert all(torch.equal(old_a[n], old_c[n]) for n in old_a)
    assert ema_a.updates == ema_c.updates and all(torch.equal(ema_a.shadow[n], ema_c.shadow[n]) for n in ema_a.shadow)
    assert math.isfinite(straight.rl_stats["loss"])


def test_bad_nft_settings_fail_clearly():
    with pytest.raises(ValueError, match="weighting must be one of"):
        DiffusionNFTModule(_policy(), Brightness(), weighting="x0")
    with pytest.raises(ValueError, match="nft_beta must be > 0"):
        DiffusionNFTModule(_policy(), Brightness(), nft_beta=0.0)
