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
from lightning.pytorch.strategies import ModelParallelStrategy
from lightning.pytorch.utilities import rank_zero_info

from modules.checkpointing import TrainableCheckpoint
from modules.flow_matching import drain, verified
from modules.optim import adamw_with_warmup
from modules.weights import WeightScopes
from zoo.policy.base import FlowPolicy
from zoo.policy.evaluate import load_weights
from zoo.reward.sharding import (
    checkpoint_blocks,
    fsdp_mesh,
    full_state_dict,
    has_meta,
    materialize,
    mixed_precision,
    shard_backbone,
    shard_blocks,
    shard_module,
)
from zoo.rl.grpo import Advantages, mixed_advantages
from zoo.rl.rewards import Reward, RewardMix

log = logging.getLogger(__name__)


class TooManyRewardFailures(RuntimeError):
    """More samples of a step lost their reward than `max_failed_fraction` allows."""


class OnlineRLModule(TrainableCheckpoint, WeightScopes, L.LightningModule):
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
        self._sharded = False

    # distributed ---------------------------------------------------------------------------------
    def configure_model(self) -> None:
        """Activation checkpointing on the policy's blocks; FSDP2 (on one mesh dimension, or hybrid: replicated
        across nodes, sharded within) of the policy transformer's blocks and root, the reference copy and a reward
        backbone; then meta-built weights are allocated and filled, each rank only its own shards."""
        hp = self.hparams
        if hp.activation_checkpointing:
            checkpoint_blocks(self.policy.blocks())
        if isinstance(self.trainer.strategy, ModelParallelStrategy) and not self._sharded:
            mesh = fsdp_mesh(self.device_mesh, self.trainer.num_nodes if hp.hybrid_shard else 1)
            rank_zero_info(f"FSDP2 mesh: {dict(zip(mesh.mesh_dim_names, mesh.shape))}")
            mp = mixed_precision(hp.param_dtype)
            for transformer in filter(None, (self.policy.transformer, self.reference)):
                shard_blocks(self.policy.blocks(transformer), [transformer], mesh, mp_policy=mp)
            for model in self._reward_models():
                shard_backbone(model.backbone, mesh, mp_policy=mp)
                shard_module(model.head, mesh)
            self._sharded = True
        device = self.trainer.strategy.root_device
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

    def export(self, folder: str | Path) -> Path | None:
        """Write the policy (EMA weights when on; FSDP2 shards gathered first); rank 0 writes."""
        with self.ema_scope():
            state = full_state_dict(self.policy.transformer)
            if self.trainer is None or self.trainer.is_global_zero:
                return self.policy.save(Path(folder), state)
        return None

    def on_fit_end(self) -> None:
        if self.hparams.export_dir:
            path = self.export(self.hparams.export_dir)
            if path is not None:
                log.info("policy exported to %s", path)
