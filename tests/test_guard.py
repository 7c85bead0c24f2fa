"""The reward-hacking guard: the rule on constructed series, and the callback on a run whose training reward rises while
its held-out score falls by construction (brightness rewarded, darkness of held-out images measured)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lightning as L
import pytest
import torch

from callbacks import EMACallback, RewardHackingGuard
from datamodules import PromptDataModule
from modules.grpo import GRPOModule
from modules.weights import trainable
from zoo.policy.flux import FluxPolicy, TinyFlux
from zoo.rl.guard import reward_hacking
from zoo.rl.rewards import Reward

NAN = float("nan")
TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)
HELD_OUT = ["a red circle to the left of a blue square", "a green triangle above a yellow circle"] * 4


# the rule ------------------------------------------------------------------------------------------
def test_the_rule_fires_when_the_reward_rises_while_the_held_out_score_falls():
    heldout, rewards = [0.30, 0.34, 0.31, 0.28], [NAN, 0.5, 0.6, 0.7]
    verdict = reward_hacking(heldout, rewards, patience=2, min_drop=0.02)
    assert verdict.hacking and verdict.best == 1 and "0.5 -> 0.7" in verdict.reason


@pytest.mark.parametrize("heldout,rewards,why", [
    ([0.30, 0.34, 0.31, 0.28], [NAN, 0.7, 0.6, 0.5], "so did the training reward"),  # both fall: not hacking
    ([0.30, 0.34, 0.35, 0.33], [NAN, 0.5, 0.6, 0.7], "ago"),  # the best is recent
    ([0.30, 0.34, 0.33, 0.28], [NAN, 0.5, 0.6, 0.7], "not stayed below"),  # one dip within min_drop
])
def test_the_rule_holds_back_otherwise(heldout, rewards, why):
    verdict = reward_hacking(heldout, rewards, patience=2, min_drop=0.02)
    assert not verdict.hacking and why in verdict.reason


def test_the_rule_for_lower_is_better_scores():
    assert reward_hacking([0.10, 0.05, 0.09, 0.12], [NAN, 0.5, 0.6, 0.7], mode="min").hacking  # clutter rising


# the callback ---------------------------------------------------------------------------------------
class Brightness(Reward):
    """Mean pixel value: GRPO raises it by construction."""

    def forward(self, prompts, images, metas):
        return images.float().mean(dim=(1, 2, 3))


class HeldOutDarkness(L.Callback):
    """The held-out score of this constructed case: 1 - mean brightness of fixed-seed images of fixed prompts, drawn
    with the weights validation evaluates; it falls as the rewarded brightness rises."""

    def on_validation_epoch_end(self, trainer, pl_module):
        pl_module.log("heldout/darkness", darkness(pl_module))


def darkness(module) -> float:
    with module.ema_scope():
        images, _ = module.policy.generate(HELD_OUT, list(range(len(HELD_OUT))), steps=4)
    return 1 - images.mean().item()


def test_the_guard_restores_the_best_ema_weights_when_the_reward_is_hacked(spatial_set, tmp_path):
    torch.manual_seed(0)
    module = GRPOModule(FluxPolicy(tiny=TINY, guidance=1.0), Brightness(), steps=4, lr=3e-3, clip_range=0.2,
                        adv_std="group")
    data = PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"),
                            val=str(spatial_set / "prompts" / "val-*.tar"), batch_size=8, group_size=4,
                            steps_per_epoch=100, eval_batch_size=4, seed=1)
    guard = RewardHackingGuard(metric="heldout/darkness", patience=2, min_drop=0.002, action="restore")
    ema = EMACallback(decay=0.5, every_n_steps=1, warmup=False)
    trainer = L.Trainer(max_steps=30, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, default_root_dir=tmp_path,
                        val_check_interval=2, check_val_every_n_epoch=None, limit_val_batches=1,
                        num_sanity_val_steps=1, callbacks=[ema, HeldOutDarkness(), guard])
    trainer.fit(module, datamodule=data)
    assert guard.fired is not None and trainer.global_step < 30  # stopped early
    assert guard.rewards[-1] > min(r for r in guard.rewards if not math.isnan(r))  # the reward rose...
    assert guard.heldout[-1] < max(guard.heldout) - 0.002  # ...while the held-out score fell
    best = max(range(len(guard.heldout)), key=lambda i: guard.heldout[i])
    assert guard.fired["restored_step"] == guard.steps[best]
    assert darkness(module) == pytest.approx(guard.heldout[best], abs=1e-6)  # back at the best point
    assert all(torch.equal(p, guard.best.tensors[n]) for n, p in trainable(module).items())  # the weights
    assert all(torch.equal(t, guard.best.tensors[n]) for n, t in ema.shadow.items())  # and the EMA average
    report = json.loads((Path(tmp_path) / "guard.json").read_text())
    assert report["fired"]["action"] == "restore" and report["best_step"] == guard.steps[best]


def test_the_guard_keeps_its_history_across_a_resume_and_refuses_unknown_actions():
    guard = RewardHackingGuard()
    guard.heldout, guard.rewards, guard.steps, guard.window = [0.3, 0.2], [NAN, 0.5], [0, 2], [0.6]
    again = RewardHackingGuard()
    again.load_state_dict(guard.state_dict())
    assert again.heldout == [0.3, 0.2] and again.steps == [0, 2] and again.window == [0.6]
    assert math.isnan(again.rewards[0]) and again.best is None
    with pytest.raises(ValueError, match="action must be one of"):
        RewardHackingGuard(action="rollback")
