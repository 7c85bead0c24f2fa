"""What every online RL algorithm on a flow-matching policy shares (Lightning glue): the policy and its reference,
the reward mix, FSDP2, rollout seeds, reward gathering and group advantages, failure accounting, validation, the
optimiser and export. An algorithm is one module on top of it (modules/grpo.py: Flow-GRPO; modules/nft.py:
DiffusionNFT), chosen in YAML by its class_path."""

from __future__ import annotations

import contextlib
import copy
import logging
from pathlib import Path
from typing import Any, Callable, ContextManager

import lightning as L
import torch

from modules.checkpointing import TrainableCheckpoint
from modules.distributed import ExportAtFitEnd, ShardedModel
from modules.flow_matching import drain, verified
from modules.optim import adamw_with_warmup
from modules.weights import WeightScopes
from zoo.dist.fsdp import ShardUnit
from zoo.dist.weights import has_meta, materialize
from zoo.policy.base import FlowPolicy
from zoo.policy.io import load_weights
from zoo.rl.grpo import Advantages, mixed_advantages
from zoo.rl.rewards import Reward, RewardMix

log = logging.getLogger(__name__)


class TooManyRewardFailures(RuntimeError):
    """More samples of a step lost their reward than `max_failed_fraction` allows."""


class OnlineRLModule(TrainableCheckpoint, WeightScopes, ShardedModel, ExportAtFitEnd, L.LightningModule):
    """Base of the online RL modules: per training step a subclass rolls out, scores (`score`), and updates.
    Checkpoints hold the trainable weights only (modules.checkpointing): the frozen reward, reference and base are
    rebuilt from the config on resume.

    Args (shared by every algorithm):
        policy: a FlowPolicy (Flux, SD3), LoRA or full.
        reward: a Reward or a RewardMix (SpatialScore folder, verifier, ...); frozen.
        init_from: a folder from `FlowPolicy.save` to start from (e.g. the SFT policy).
        reference (base only): whether the algorithm regularises towards the reference policy (the adapter-free
            base with LoRA; a frozen copy of the start otherwise).
        adv_std, adv_clip, top_k: see zoo.rl.grpo.group_advantages.
        max_failed_fraction: the step fails when more samples than this lost their reward (NaN or raised).
        lr, weight_decay, warmup_steps, betas, grad_clip: AdamW and gradient-norm clipping.
        eval_steps: ODE steps for validation images; seed: base of the rollout noise seeds.
        export_dir: where the trained policy goes when fitting ends (EMA weights when an EMA callback is on).
        activation_checkpointing: recompute the policy transformer's blocks in the backward pass.
        hybrid_shard: FSDP2 on a 2-D (replicate, shard) mesh: shard within each node, replicate across nodes.
        param_dtype: FSDP2 mixed precision ("bfloat16": weights gathered and computed in it, fp32 LoRA masters
            and fp32 gradient reduction); None keeps each parameter's dtype.
    """

    def __init__(self, policy: FlowPolicy, reward: Reward, init_from: str | None = None,
                 reference: bool = False) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["policy", "reward", "reference"])  # the subclass's arguments
        self.automatic_optimization = False
        if init_from:
            load_weights(policy, init_from)
        self.policy = policy
        self.reward = reward if isinstance(reward, RewardMix) else RewardMix({"reward": reward})
        self.reward.requires_grad_(False)
        self.reference = None  # full fine-tuning with a KL penalty: a frozen copy of the starting transformer
        if reference and policy.lora is None:
            self.reference = copy.deepcopy(policy.transformer).requires_grad_(False).eval()
        self.weight_scopes: list[Callable[[], ContextManager]] = []  # e.g. the EMA callback's swap-in
        self.rl_stats: dict[str, float] = {}  # the last step's statistics (the tracking callback logs them)
        self.last_rollout: dict[str, Any] = {}  # the last rollout's images, prompts and rewards
        self._val: list[tuple[torch.Tensor, list[dict]]] = []
        self.val_stats: dict[str, float] | None = None  # the last validation's verified scores

    # distributed ---------------------------------------------------------------------------------
    def shard_units(self) -> list[ShardUnit]:
        """The policy transformer's blocks and root (activation-checkpointed when asked), the frozen reference copy,
        and each reward backbone (blocks, then the modules its forward calls) with its fp32 head."""
        units = [ShardUnit(self.policy.blocks(), [self.policy.transformer])]
        if self.reference is not None:
            units.append(ShardUnit(self.policy.blocks(self.reference), [self.reference], trainable=False))
        for model in self._reward_models():
            units.append(ShardUnit(model.backbone.decoder_layers(), model.backbone.fsdp_roots(), trainable=False))
            units.append(ShardUnit([], [model.head], trainable=False, mixed=False))
        return units

    def materialize_weights(self, device: torch.device) -> None:
        """Meta-built policy, reference and reward backbones allocated and filled, each rank only its own shards."""
        self.policy.materialize(device)
        if self.reference is not None and has_meta(self.reference):
            materialize(self.reference, device, 0.02, getattr(self.policy, "weights", None))
        for model in self._reward_models():
            if hasattr(model.backbone, "materialize"):
                model.backbone.materialize(device)

    def _reward_models(self) -> list[torch.nn.Module]:
        """The reward models (backbone + head) among the rewards, e.g. SpatialScore's."""
        models = [getattr(reward, "model", None) for reward in self.reward.rewards.values()]
        return [m for m in models if m is not None and hasattr(m, "backbone")]

    def _gather(self, values: torch.Tensor) -> torch.Tensor:
        """(B,) per rank -> (world * B,) in rank order (the group ids follow the same order)."""
        if self.trainer.world_size == 1:
            return values
        return self.all_gather(values.to(self.device)).reshape(-1).cpu()

    # rollout and rewards ---------------------------------------------------------------------------
    def _seeds(self, n: int) -> list[int]:
        """Distinct noise seeds for every sample of this step on every rank (never shared within a group)."""
        base = (self.hparams.seed * 1_000_003 + self.global_step) * 65_537 + self.global_rank * n
        return [(base + i) % (2**31 - 1) for i in range(n)]

    def advantages(self, parts: dict[str, torch.Tensor], groups: torch.Tensor) -> Advantages:
        """Group advantages of the gathered rewards: of their weighted sum, or (mode "advantage") per reward
        and summed with the weights."""
        hp = self.hparams
        return mixed_advantages(parts, self.reward.weights, self.reward.mode, groups, hp.adv_std, hp.adv_clip,
                                hp.top_k)

    def score(self, batch: dict[str, Any], images: torch.Tensor) -> tuple[Advantages, slice, dict[str, float]]:
        """Rewards of this rank's images, gathered over the ranks; the group advantages of all of them, this rank's
        rows among them, and the reward statistics of the step."""
        prompts, metas = list(batch["prompt"]), list(batch["meta"])
        parts = self.reward.components(prompts, images, metas)
        gathered = {name: self._gather(r) for name, r in parts.items()}
        adv = self.advantages(gathered, self._gather(batch["group"].cpu()))
        total = self.reward.combine(gathered)
        self._check_failures(adv, total.numel())
        n = len(prompts)
        local = slice(self.global_rank * n, (self.global_rank + 1) * n)
        finite = total[torch.isfinite(total)]
        stats = {
            "reward_mean": float(finite.mean()) if finite.numel() else float("nan"),
            "reward_std": float(finite.std(unbiased=False)) if finite.numel() else float("nan"),
            **{f"reward_{k}": float(v[torch.isfinite(v)].mean()) for k, v in gathered.items() if len(gathered) > 1},
            "zero_variance_groups": adv.zero_variance_groups / max(adv.groups, 1),
            "failed_samples": float(adv.dropped_samples), "kept_fraction": float(adv.keep.float().mean()),
        }
        self.last_rollout = {"images": images.cpu(), "prompts": prompts, "rewards": total[local]}
        self.log("train/reward", stats["reward_mean"], prog_bar=True, batch_size=len(finite) or 1)
        return adv, local, stats

    def _check_failures(self, adv: Advantages, n: int) -> None:
        if adv.dropped_samples:
            log.warning("%d of %d samples lost their reward this step (dropped from their groups)",
                        adv.dropped_samples, n)
        if adv.dropped_samples > self.hparams.max_failed_fraction * n:
            raise TooManyRewardFailures(f"{adv.dropped_samples} of {n} samples have no reward (NaN or the reward "
                                        f"raised), more than max_failed_fraction={self.hparams.max_failed_fraction}")

    # the policy and its reference -------------------------------------------------------------------
    def _velocity(self, prompts: list[str]) -> Callable:
        text = self.policy.encode_text(prompts)
        return lambda x, sigma: self.policy.velocity(x, sigma, text)

    @contextlib.contextmanager
    def _reference_scope(self):
        """The reference model in place of the policy for a while (LoRA off, or the frozen copy swapped in)."""
        if self.reference is None:
            with self.policy.adapters_disabled():
                yield
            return
        trained = self.policy.transformer
        self.policy.transformer = self.reference
        try:
            yield
        finally:
            self.policy.transformer = trained

    def _any_rank(self, flag: bool) -> bool:
        """Whether `flag` holds on any rank (the same answer on every rank)."""
        if self.trainer.world_size == 1:
            return flag
        return bool(self.trainer.strategy.reduce(torch.tensor(float(flag), device=self.device), reduce_op="sum") > 0)

    def optimizer_step(self, signal: bool = True) -> None:
        """Clip the gradient norm, step the optimizer and the schedule, zero the gradients. Without `signal` (a
        minibatch whose loss is 0 on every rank) the gradients are dropped first, so AdamW leaves every weight as it
        is (no momentum or weight-decay drift), while the step still counts towards max_steps and the schedule."""
        opt, sched = self.optimizers(), self.lr_schedulers()
        if not signal:
            opt.zero_grad(set_to_none=True)
        if self.hparams.grad_clip:  # torch's own clipping: it handles FSDP2's DTensor gradients too
            torch.nn.utils.clip_grad_norm_([p for p in self.policy.parameters() if p.requires_grad],
                                           self.hparams.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)

    # validation ----------------------------------------------------------------------------------
    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        seeds = [int(i) for i in batch["group"].tolist()]  # prompt indices: the same images at every validation
        with self.ema_scope():
            images, _ = self.policy.generate(list(batch["prompt"]), seeds, steps=self.hparams.eval_steps)
        self._val.append((images.cpu(), list(batch["meta"])))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        images, metas = drain(self._val)
        if all("objects" in m for m in metas):
            self.val_stats = verified(images, metas)  # this rank's share; RLStatsTracker records it per step
            self.log_dict({f"val/{k}": v for k, v in self.val_stats.items()}, prog_bar=True,
                          sync_dist=True, batch_size=len(metas))

    # optimisation and export ----------------------------------------------------------------------
    @property
    def optimizer_steps_per_batch(self) -> int:
        """Optimizer steps one rollout takes (inner epochs x minibatches): `max_steps` counts these."""
        return int(self.hparams.get("inner_epochs", 1)) * int(self.hparams.get("minibatches", 1))

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_with_warmup(self.policy.named_parameters(), hp.lr, hp.weight_decay, hp.warmup_steps, hp.betas)

    exported = "policy"

    def export_model(self) -> torch.nn.Module:
        return self.policy.transformer

    def export_scope(self) -> ContextManager:
        return self.ema_scope()  # EMA weights when an EMA callback is on

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """The policy (`FlowPolicy.save`: LoRA or whole transformer, trained text encoders and VAE)."""
        return self.policy.save(folder, state)
