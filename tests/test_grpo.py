"""Flow-GRPO: advantages, the clipped loss, KL, the on-policy first update, learning, failures, resume with EMA."""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from callbacks import EMACallback, RLStatsTracker, RolloutImages
from datamodules import PromptDataModule
from modules.grpo import GRPOModule, TooManyRewardFailures
from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.rl.grpo import clipped_ratio_loss, group_advantages, kl_to_reference
from zoo.rl.rewards import Reward, RewardMix, VerifierReward, safe_call

TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


class Brightness(Reward):
    """Mean pixel value: a reward any policy can raise by drawing brighter images."""

    def forward(self, prompts, images, metas):
        return images.float().mean(dim=(1, 2, 3))


class ChannelBrightness(Reward):
    """A weighted mean of the colour channels with the weights in a parameter: a reward model with weights (frozen)."""

    def __init__(self, weights: tuple[float, float, float] = (0.5, 0.3, 0.2)) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(weights))

    def forward(self, prompts, images, metas):
        return images.float().mean(dim=(2, 3)) @ self.weight


class FailsOn(Reward):
    """The verifier, except that it raises for prompts mentioning `word` (a reward that breaks on some images)."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word, self.verifier = word, VerifierReward()

    def forward(self, prompts, images, metas):
        if any(self.word in p for p in prompts):
            raise RuntimeError(f"cannot judge a {self.word}")
        return self.verifier(prompts, images, metas)


class StepLog(L.Callback):
    """The module's statistics and prompts after every rollout."""

    def __init__(self) -> None:
        self.steps: list[tuple[dict, list[str]]] = []

    def on_train_batch_end(self, trainer, pl_module, *args):
        self.steps.append((dict(pl_module.rl_stats), list(pl_module.last_rollout["prompts"])))


def _policy(lora: LoraSpec | None = None) -> FluxPolicy:
    torch.manual_seed(0)
    return FluxPolicy(tiny=TINY, guidance=1.0, lora=lora)


def _data(spatial_set, batch_size=4, group_size=2, steps=50):
    return PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"),
                            val=str(spatial_set / "prompts" / "val-*.tar"), batch_size=batch_size,
                            group_size=group_size, steps_per_epoch=steps, eval_batch_size=8, seed=1)


def _trainer(root, max_steps, callbacks=(), **kwargs):
    kwargs.setdefault("limit_val_batches", 0)
    kwargs.setdefault("enable_checkpointing", False)
    return L.Trainer(max_steps=max_steps, accelerator="cpu", logger=False, enable_progress_bar=False,
                     enable_model_summary=False, default_root_dir=root, callbacks=list(callbacks), **kwargs)


# the arithmetic ------------------------------------------------------------------------------------
def test_group_advantages_normalise_per_group_and_drop_flat_groups_and_failed_rewards():
    rewards = torch.tensor([1.0, 3.0, 5.0, 5.0, 2.0, float("nan"), 4.0, 0.0])
    groups = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    adv = group_advantages(rewards, groups, std="group", clip=5.0, eps=0.0)
    assert adv.groups == 4 and adv.zero_variance_groups == 2 and adv.dropped_samples == 1  # {5, 5} and {0}
    assert adv.keep.tolist() == [True, True, False, False, True, False, True, False]
    assert torch.allclose(adv.values, torch.tensor([-1.0, 1.0, 0, 0, -1.0, 0, 1.0, 0]))
    batch = group_advantages(rewards, groups, std="batch", clip=0.5)
    finite = rewards[torch.isfinite(rewards)]
    assert math.isclose(batch.values[1].item(), min(1.0 / (finite.std(unbiased=False).item() + 1e-4), 0.5), rel_tol=1e-6)


def test_top_k_keeps_the_highest_and_lowest_of_each_group():
    rewards = torch.tensor([0.1, 0.9, 0.5, 0.3, 0.7, 0.2])
    adv = group_advantages(rewards, torch.zeros(6, dtype=torch.long), top_k=2)
    assert adv.keep.tolist() == [True, True, False, False, True, True]  # 0.1, 0.2 low; 0.7, 0.9 high


def test_clipped_ratio_loss_is_ppo_and_counts_clipped_samples():
    old = torch.zeros(4)
    new = torch.log(torch.tensor([1.0, 1.5, 0.5, 1.02]))
    adv = torch.tensor([1.0, 1.0, -1.0, -2.0])
    loss, stats = clipped_ratio_loss(new, old, adv, clip_range=0.1)
    ratio = new.exp()
    expected = [max(-a * r, -a * min(max(r, 0.9), 1.1)) for a, r in zip(adv.tolist(), ratio.tolist())]
    assert math.isclose(loss.item(), sum(expected) / 4, rel_tol=1e-6)
    assert stats["clip_fraction"].item() == 0.5 and math.isclose(stats["ratio_max"].item(), 1.5, rel_tol=1e-6)


def test_kl_to_reference_is_the_gaussian_kl_per_dimension():
    mean, ref, std = torch.randn(3, 5, 7), torch.randn(3, 5, 7), 0.3
    exact = torch.distributions.kl_divergence(torch.distributions.Normal(mean, std), torch.distributions.Normal(ref, std))
    assert torch.allclose(kl_to_reference(mean, ref, std), exact.reshape(3, -1).mean(1), rtol=1e-5)


def test_safe_call_turns_failures_into_nan_for_the_failing_samples_only(spatial_set):
    from zoo.bench.spatialbench import load_spatialbench

    items = load_spatialbench(str(spatial_set / "prompts" / "val-*.tar"), 6)
    word = items[0].data["scene"]["objects"][0]["colour"]
    prompts, metas = [i.prompt for i in items], [i.data["scene"] for i in items]
    scores = safe_call(FailsOn(word), prompts, torch.rand(6, 3, 16, 16), metas)
    failing = [word in p for p in prompts]
    assert [math.isnan(s) for s in scores.tolist()] == failing and 0 < sum(failing) < 6
    with pytest.raises(ValueError, match="unknown rewards"):
        RewardMix({"verifier": VerifierReward()}, weights={"spatialscore": 1.0})


# the module ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,group_size,minibatches", [(1, 1, 1), (4, 2, 2)])
def test_first_update_after_a_rollout_is_on_policy(spatial_set, tmp_path, batch_size, group_size, minibatches):
    module = GRPOModule(_policy(), Brightness(), steps=4, noise_level=0.7, minibatches=minibatches, lr=1e-3,
                        clip_range=0.2)  # a reward that varies by construction: every group is updated
    _trainer(tmp_path, 2 * minibatches).fit(module, datamodule=_data(spatial_set, batch_size, group_size))
    stats = module.rl_stats
    assert stats["first_ratio_min"] == 1.0 and stats["first_ratio_max"] == 1.0  # exactly, at every trained step
    if minibatches > 1:  # the second minibatch saw weights the first update changed
        assert stats["ratio_min"] < 1.0 or stats["ratio_max"] > 1.0


@pytest.mark.parametrize("shared", [False, True])
def test_shared_noise_starts_a_group_from_one_initial_noise_with_its_own_sde_noise(spatial_set, shared):
    module = GRPOModule(_policy(), Brightness(), steps=4, noise_level=0.7, shared_noise=shared)
    batch = next(iter(_data(spatial_set, 8, 4).train_dataloader()))
    groups = batch["group"]
    sde_mask, _ = module._step_masks(len(groups))
    images, (trajectory,) = module.rollout(list(batch["prompt"]), sde_mask, groups)
    start = trajectory.samples[0]
    for g in groups.unique():
        rows = (groups == g).nonzero().squeeze(1)
        assert torch.equal(start[rows[0]], start[rows[1]]) == shared  # one initial noise a group, or one an image
        assert not torch.equal(images[rows[0]], images[rows[1]])  # the SDE noise still differs within the group
    first = [(groups == g).nonzero()[0, 0] for g in groups.unique()]
    assert not torch.equal(start[first[0]], start[first[1]])  # groups do not share noise


def test_grpo_raises_a_reward_it_is_given(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Brightness(), steps=4, noise_level=0.7, lr=3e-3, clip_range=0.2, adv_std="group")
    prompts = ["a red circle to the left of a blue square"] * 8

    def brightness() -> float:
        images, _ = module.policy.generate(prompts, list(range(8)), steps=4)
        return images.mean().item()

    before = brightness()
    _trainer(tmp_path, 12).fit(module, datamodule=_data(spatial_set, 8, 4))
    assert brightness() > before + 0.02


def test_lora_policy_with_kl_to_the_adapter_free_reference(spatial_set, tmp_path):
    module = GRPOModule(_policy(LoraSpec(r=4, alpha=8)), Brightness(), steps=4, beta=0.1,  # a reward that varies
                        lr=1e-2, clip_range=0.2)
    _trainer(tmp_path, 3).fit(module, datamodule=_data(spatial_set))
    assert module.rl_stats["kl_ref"] > 0  # the adapter moved away from the base
    module.export(tmp_path / "out")
    assert (tmp_path / "out" / "lora" / "pytorch_lora_weights.safetensors").is_file()


def test_failed_rewards_are_dropped_and_counted_and_too_many_stop_the_run(spatial_set, tmp_path):
    data = _data(spatial_set, 8, 4)
    data.setup("fit")
    colours = [p["meta"]["objects"][0]["colour"] for p in data.prompts["train"]]
    word = max(set(colours), key=colours.count)
    module = GRPOModule(_policy(), FailsOn(word), steps=4, max_failed_fraction=1.0)
    seen = StepLog()
    _trainer(tmp_path / "a", 4, [seen]).fit(module, datamodule=_data(spatial_set, 8, 4))
    failing = [sum(word in p for p in prompts) for _, prompts in seen.steps]
    assert [s["failed_samples"] for s, _ in seen.steps] == failing and 0 < sum(failing) < 32
    assert all(math.isfinite(s["reward_mean"]) for (s, _), f in zip(seen.steps, failing) if f < 8)
    strict = GRPOModule(_policy(), FailsOn(" "), steps=4, max_failed_fraction=0.25)  # every prompt fails
    with pytest.raises(TooManyRewardFailures, match="max_failed_fraction=0.25"):
        _trainer(tmp_path / "b", 1).fit(strict, datamodule=_data(spatial_set, 8, 4))


def test_an_empty_prompt_shard_is_a_clear_error(tmp_path):
    import tarfile

    empty = tmp_path / "empty-000000.tar"
    tarfile.open(empty, "w").close()
    data = PromptDataModule(train=str(empty))
    with pytest.raises(ValueError, match="no readable prompts in train shards"):
        data.setup("fit")


def test_a_killed_run_resumes_with_the_same_step_ema_and_optimizer_from_trainable_weights_only(spatial_set, tmp_path):
    def module(weights=(0.5, 0.3, 0.2)):  # full fine-tuning: a frozen reference copy and a reward with weights
        reward = RewardMix({"verifier": VerifierReward(objects_weight=0.5), "bright": ChannelBrightness(weights)})
        return GRPOModule(_policy(), reward, steps=4, minibatches=2, lr=3e-3, clip_range=0.2, beta=0.01)

    def callbacks():
        return [EMACallback(decay=0.9, every_n_steps=2), RLStatsTracker(), RolloutImages(every_n_steps=2)]

    straight = module()
    ema_a = callbacks()
    _trainer(tmp_path / "a", 8, ema_a).fit(straight, datamodule=_data(spatial_set))
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=4, save_top_k=-1)
    _trainer(tmp_path / "b", 4, callbacks() + [ckpt], enable_checkpointing=True).fit(module(),
                                                                                     datamodule=_data(spatial_set))
    path = next((tmp_path / "ckpt").glob("*step=4*.ckpt"))
    saved = torch.load(path, map_location="cpu", weights_only=False)
    trainable = {n for n, p in straight.named_parameters() if p.requires_grad}
    assert set(saved["state_dict"]) == trainable and any(k.startswith("policy.transformer.") for k in trainable)
    everything = torch.nn.Module.state_dict(straight)
    assert any(k.startswith("reward.") for k in everything) and any(k.startswith("reference.") for k in everything)
    assert saved["optimizer_states"] and saved["callbacks"] and saved["loops"]  # optimizer, EMA, data position
    resumed, ema_c = module(), callbacks()
    trainer = _trainer(tmp_path / "c", 8, ema_c)
    trainer.fit(resumed, datamodule=_data(spatial_set), ckpt_path=str(path))
    assert trainer.global_step == 8
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(a, b), name
    assert ema_a[0].updates == ema_c[0].updates == 4
    assert all(torch.equal(ema_a[0].shadow[n], ema_c[0].shadow[n]) for n in ema_a[0].shadow)
    opt_a, opt_c = straight.optimizers().optimizer.state_dict(), resumed.optimizers().optimizer.state_dict()
    assert all(torch.equal(opt_a["state"][k]["exp_avg"], opt_c["state"][k]["exp_avg"]) for k in opt_a["state"])
    with pytest.raises(ValueError, match="frozen 'reward' weights differ"):  # rebuilt otherwise than saved
        _trainer(tmp_path / "d", 8).fit(module((0.2, 0.3, 0.5)), datamodule=_data(spatial_set), ckpt_path=str(path))


def test_loading_needs_every_trainable_weight_and_nothing_unknown_but_not_the_frozen_parts():
    module = GRPOModule(_policy(LoraSpec(r=4, alpha=8)), ChannelBrightness(), steps=4)
    state = module.state_dict()
    assert state and all("lora_" in k for k in state)  # the frozen base and the reward stay out
    module.load_state_dict(state)
    with pytest.raises(RuntimeError, match="trainable weights missing.*lora_"):
        module.load_state_dict(dict(list(state.items())[1:]))
    with pytest.raises(RuntimeError, match=r"unknown weights \['policy.extra'\]"):
        module.load_state_dict({**state, "policy.extra": torch.zeros(1)})
    module.load_state_dict(dict(list(state.items())[1:]), strict=False)


def test_ema_is_swapped_in_for_export_only(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Brightness(), steps=4, lr=3e-3, clip_range=0.2, export_dir=str(tmp_path / "out"))
    ema = EMACallback(decay=0.5, every_n_steps=1, warmup=False)
    _trainer(tmp_path, 3, [ema]).fit(module, datamodule=_data(spatial_set))
    name = next(iter(ema.shadow))
    trained = dict(module.policy.named_parameters())[name.removeprefix("policy.")]
    assert not torch.equal(trained, ema.shadow[name])  # training weights stay in the module
    exported = FluxPolicy(tiny=TINY, guidance=1.0)
    exported.load_transformer(tmp_path / "out")
    saved = dict(exported.named_parameters())[name.removeprefix("policy.")]
    assert torch.allclose(saved, ema.shadow[name])


def test_tracker_writes_statistics_and_rollout_grids_to_tensorboard(spatial_set, tmp_path):
    import json

    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    module = GRPOModule(_policy(), VerifierReward(objects_weight=0.5), steps=4, lr=1e-3, clip_range=0.2)
    logger = TensorBoardLogger(str(tmp_path), name="tb")
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=logger, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0,
                        callbacks=[RLStatsTracker(), RolloutImages(every_n_steps=2, count=4)])
    trainer.fit(module, datamodule=_data(spatial_set))
    rows = [json.loads(line) for line in (Path(logger.log_dir) / "rl_stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    expected = {"reward_mean", "reward_std", "zero_variance_groups", "ratio_mean", "ratio_min", "ratio_max",
                "clip_fraction", "approx_kl", "time_rollout", "time_reward", "time_update"}
    assert expected <= set(rows[0])
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0})
    events.Reload()
    assert [e.step for e in events.Images("rollout/images")] == [1, 3]  # rollouts 1 and 3 (every 2)
    assert "rl/approx_kl" in events.Tags()["scalars"] and "rollout/prompts/text_summary" in events.Tags()["tensors"]


class Constant(Reward):
    """The same reward for every image: every group is flat, so no rollout carries a signal."""

    def forward(self, prompts, images, metas):
        return torch.ones(len(prompts))


def test_a_minibatch_without_signal_leaves_every_weight_and_the_optimizer_state_untouched(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Constant(), steps=2, noise_level=0.7, minibatches=2, lr=1e-2,
                        weight_decay=0.1)  # before: AdamW's weight decay (and any momentum) moved every weight
    start = {k: v.clone() for k, v in module.policy.state_dict().items()}
    trainer = _trainer(tmp_path, 4)
    trainer.fit(module, datamodule=_data(spatial_set, 4, 2))
    assert trainer.global_step == 4 and module.rl_stats["skipped_updates"] == 1.0  # the steps still count
    assert all(torch.equal(v, start[k]) for k, v in module.policy.state_dict().items())
    assert not module.optimizers().optimizer.state


def test_mixed_advantages_normalise_the_weighted_sum_or_each_reward_apart():
    from zoo.rl.grpo import mixed_advantages

    groups = torch.tensor([0, 0, 1, 1])
    parts = {"a": torch.tensor([1.0, 3.0, 2.0, 2.0]), "b": torch.tensor([0.0, 10.0, 5.0, 1.0])}
    weights = {"a": 1.0, "b": 0.5}
    summed = mixed_advantages(parts, weights, "sum", groups, "group")
    assert torch.equal(summed.values, group_advantages(parts["a"] + 0.5 * parts["b"], groups, "group").values)
    apart = mixed_advantages(parts, weights, "advantage", groups, "group")
    each = {n: group_advantages(r, groups, "group") for n, r in parts.items()}
    assert torch.allclose(apart.values, each["a"].values + 0.5 * each["b"].values)
    assert apart.keep.tolist() == [True, True, True, True]  # group 1 is flat for "a" but has signal from "b"
    with pytest.raises(ValueError, match="mode"):
        mixed_advantages(parts, weights, "max", groups)
