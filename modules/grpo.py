"""GRPOModule: Flow-GRPO on a flow-matching policy with any reward mix (Lightning glue; the arithmetic is zoo.rl)."""

from __future__ import annotations

import time
from typing import Any, Callable, Literal

import torch

from modules.rl import OnlineRLModule, TooManyRewardFailures
from zoo.policy.base import FlowPolicy
from zoo.policy.sampler import Trajectory, branch_steps, sde_steps
from zoo.rl.grpo import KL_CONVENTIONS, clipped_ratio_loss, masked_mean, step_kl, step_log_prob
from zoo.rl.rewards import Reward

__all__ = ["GRPOModule", "TooManyRewardFailures"]


class GRPOModule(OnlineRLModule):
    """Flow-GRPO: per step, roll out groups with the SDE sampler, score them, group-normalise the rewards,
    then `inner_epochs` x `minibatches` optimizer steps of the clipped ratio loss (+ beta KL to the reference).

    Args:
        policy: a FlowPolicy (Flux, SD3), LoRA or full.
        reward: a Reward or a RewardMix (SpatialScore folder, verifier, ...); frozen.
        init_from: a folder from `FlowPolicy.save` to start from (e.g. the SFT policy).
        steps: sampler steps per rollout.
        noise_level: the SDE's noise level in the rollouts.
        kind: the SDE of the rollouts: "sde" (Flow-GRPO's), "cps" (coefficient-preserving) or "dance" (DanceGRPO's
            constant-eta noise).
        first_std: the noise at sigma = 1 ("next_sigma", or "flow_grpo" to reproduce Flow-GRPO's samples exactly;
            see zoo.policy.sampler.sde_std).
        train_fraction: the SDE and trained steps are the first floor(T * fraction) (unless sde_window or
            sde_branch is set).
        sde_window: w consecutive SDE and trained steps from a random start shared by the rollout.
        sde_branch: Flow-GRPO-Fast: 1 or 2 SDE and trained steps from each trajectory's own random branch point in
            `branch_range`, ODE elsewhere (one forward per trained step in the update).
        branch_range: the (first, last) step a branch point is drawn from (default: the first half).
        untrained_steps: "ode" (Euler steps outside the trained ones) or "sde" (every rollout step stochastic,
            as Flow-GRPO samples with fraction 0.99).
        minibatches: optimizer steps per pass over a rollout; the rollout runs in the same chunks, so that
            the first update sees exactly the rollout's log-probs (ratio 1).
        inner_epochs: passes over each rollout.
        shared_noise: every image of a group starts from one initial noise, so the rewards of a group differ only
            through the SDE noise the log-probs are taken of (DanceGRPO's `use_same_noise`); False: a noise per image
            (Flow-GRPO).
        clip_range: PPO's epsilon on the ratio.
        beta: KL penalty to the reference, in the convention `kl` ("exact": the step's Gaussian KL; "flow_grpo":
            Flow-GRPO's, the exact KL times |dt|, in which its beta = 0.04 was tuned; docs/rl.md). Both are logged.
        kl: the KL convention of beta: "exact" or "flow_grpo".
        zero_advantage: samples with A = 0 (flat groups, failed rewards, outside top_k): "keep" them in the
            minibatch mean (the loss scale follows the kept fraction) or "drop" them (Flow-GRPO: the mean over
            the kept samples).
        adv_std: the std that normalises advantages: "group" (each group's own) or "batch" (all finite rewards;
            Flow-GRPO's default); see zoo.rl.grpo.group_advantages.
        adv_clip: advantages are clipped to +-adv_clip.
        top_k: keep only the k highest and k lowest rewards of each group (None: all).
        max_failed_fraction: the step fails when more samples than this lost their reward (NaN or raised).
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: optimizer steps of linear learning-rate warm-up.
        betas: AdamW betas.
        grad_clip: gradient-norm clipping.
        eval_steps: ODE steps for validation images.
        seed: base of the rollout noise seeds.
        export_dir: where the trained policy goes when fitting ends (EMA weights when an EMA callback is on).
        activation_checkpointing: recompute the policy transformer's blocks in the backward pass.
        hybrid_shard: FSDP2 on a 2-D (replicate, shard) mesh: shard within each node, replicate across nodes.
        param_dtype: FSDP2 mixed precision ("bfloat16": weights gathered and computed in it, fp32 LoRA masters
            and fp32 gradient reduction); None keeps each parameter's dtype.
    """

    def __init__(self, policy: FlowPolicy, reward: Reward, init_from: str | None = None, steps: int = 8,
                 noise_level: float = 0.7, kind: Literal["sde", "cps", "dance"] = "sde",
                 train_fraction: float | None = 0.99, sde_window: int | None = None, minibatches: int = 1,
                 inner_epochs: int = 1, clip_range: float = 1e-4, beta: float = 0.0,
                 adv_std: Literal["group", "batch"] = "batch", adv_clip: float = 5.0, top_k: int | None = None,
                 max_failed_fraction: float = 0.5, lr: float = 3e-4, weight_decay: float = 1e-4,
                 warmup_steps: int = 0, betas: tuple[float, float] = (0.9, 0.999), grad_clip: float = 1.0,
                 eval_steps: int = 8, seed: int = 0, export_dir: str | None = None,
                 activation_checkpointing: bool = False, hybrid_shard: bool = False,
                 param_dtype: Literal["bfloat16", "float16", "float32"] | None = None,
                 kl: Literal["exact", "flow_grpo"] = "exact",
                 first_std: Literal["next_sigma", "flow_grpo"] = "next_sigma",
                 untrained_steps: Literal["ode", "sde"] = "ode", zero_advantage: Literal["keep", "drop"] = "keep",
                 sde_branch: int | None = None, branch_range: tuple[int, int] | None = None,
                 shared_noise: bool = False) -> None:
        for name, value, allowed in (("kl", kl, KL_CONVENTIONS), ("untrained_steps", untrained_steps, ("ode", "sde")),
                                     ("zero_advantage", zero_advantage, ("keep", "drop"))):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        super().__init__(policy, reward, init_from, reference=beta > 0)

    # rollout -------------------------------------------------------------------------------------
    def _step_masks(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, T) masks of the SDE steps and the trained ones for this rank's rows. A window is drawn from the step
        number (the same on all ranks); branch points from the step and the rank (each trajectory its own)."""
        hp = self.hparams
        gen = torch.Generator().manual_seed(hp.seed * 7919 + self.global_step)
        if hp.sde_branch:
            gen.manual_seed((hp.seed * 7919 + self.global_step) * 1009 + self.global_rank)
            trained = branch_steps(hp.steps, n, hp.sde_branch, hp.branch_range, gen)
            sde = trained.clone()
        else:
            sde_list, trained_list = sde_steps(hp.steps, None if hp.sde_window else hp.train_fraction, hp.sde_window,
                                               gen)
            sde = torch.tensor(sde_list).expand(n, -1).clone()
            trained = torch.tensor(trained_list).expand(n, -1).clone()
        if hp.untrained_steps == "sde":
            sde[:] = True
        return sde, trained

    def _chunk(self, n: int) -> int:
        if n % self.hparams.minibatches:
            raise ValueError(f"the per-rank batch ({n}) must be a multiple of minibatches ({self.hparams.minibatches})")
        return n // self.hparams.minibatches

    @torch.no_grad()
    def rollout(self, prompts: list[str], sde_mask: torch.Tensor,
                groups: torch.Tensor | None = None) -> tuple[torch.Tensor, list[Trajectory]]:
        """Images and trajectories (with log-probs), sampled in the chunks the update will use; with
        `shared_noise`, every image of a group (ids `groups`) starts from the group's initial noise."""
        hp = self.hparams
        noise_seeds = self._group_seeds(groups) if hp.shared_noise and groups is not None else None
        return self.policy.generate(prompts, self._seeds(len(prompts)), steps=hp.steps, noise_level=hp.noise_level,
                                    kind=hp.kind, sde_mask=sde_mask, keep=True, batch_size=self._chunk(len(prompts)),
                                    first_std=hp.first_std, noise_seeds=noise_seeds)

    def _group_seeds(self, groups: torch.Tensor) -> list[int]:
        """One initial-noise seed per group id and step, the same on every rank (a group may span ranks)."""
        base = ((self.hparams.seed * 1_000_003 + self.global_step) * 65_537 + 2**30) % (2**31 - 1)
        return [(base + int(g) * 7_919) % (2**31 - 1) for g in groups.tolist()]

    # the step ------------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        prompts = list(batch["prompt"])
        sde_mask, trained = self._step_masks(len(prompts))
        t0 = time.perf_counter()
        images, trajectories = self.rollout(prompts, sde_mask, batch["group"])
        t1 = time.perf_counter()
        adv, local, reward_stats = self.score(batch, images)
        t2 = time.perf_counter()
        update = self.update(trajectories, adv.values[local], adv.keep[local], trained, prompts)
        t3 = time.perf_counter()
        self.rl_stats = {**reward_stats, **update, "time_rollout": t1 - t0, "time_reward": t2 - t1,
                         "time_update": t3 - t2}

    def update(self, trajectories: list[Trajectory], advantages: torch.Tensor, keep: torch.Tensor,
               trained: torch.Tensor, prompts: list[str]) -> dict[str, float]:
        """The inner optimizer steps over one rollout; returns ratio, clip and KL statistics (first update's
        ratio separately: it must be exactly 1). trained: (n, T) mask, the same number of steps in every row."""
        hp = self.hparams
        chunk = self._chunk(len(prompts))
        stats: list[dict[str, torch.Tensor]] = []
        first_ratio: list[torch.Tensor] = []
        skipped = 0  # minibatches without signal (every advantage 0, no KL term): the weights are left as they are
        for epoch in range(hp.inner_epochs):
            for m, traj in enumerate(trajectories):
                rows = slice(m * chunk, (m + 1) * chunk)
                plan = trained_indices(trained[rows])  # (chunk, K): each row's trained steps
                adv, mask = advantages[rows].to(self.device), keep[rows].to(self.device)
                velocity = self._velocity(prompts[rows])
                for k in range(plan.shape[1]):
                    s = self._step_loss(velocity, traj, _one_or_per_row(plan[:, k]), adv, mask, plan.shape[1])
                    stats.append(s)
                    if epoch == 0 and m == 0:
                        first_ratio += [s["ratio_min"], s["ratio_max"]]
                signal = self._any_rank(bool(((adv * mask) != 0).any()) or hp.beta > 0)
                skipped += 0 if signal else 1
                self.optimizer_step(signal)
        return {**_summary(stats, first_ratio, float(self.lr_schedulers().get_last_lr()[0])),
                "skipped_updates": skipped / max(1, hp.inner_epochs * len(trajectories))}

    def _step_loss(self, velocity: Callable, traj: Trajectory, index: int | torch.Tensor, adv: torch.Tensor,
                   keep: torch.Tensor, slots: int) -> dict[str, torch.Tensor]:
        """Backward of one trained step's share of the loss: the clipped ratio loss (+ beta KL); its statistics."""
        hp = self.hparams
        current = step_log_prob(velocity, traj, index, hp.noise_level, hp.kind, hp.first_std)
        old = _at(traj.log_probs, index).to(current.log_prob.device)
        drop = hp.zero_advantage == "drop"
        loss, s = clipped_ratio_loss(current.log_prob, old, adv * keep, hp.clip_range, keep if drop else None)
        if hp.beta > 0:
            with torch.no_grad(), self._reference_scope():
                reference = step_log_prob(velocity, traj, index, hp.noise_level, hp.kind, hp.first_std)
            reduce = (lambda v: masked_mean(v, keep)) if drop else (lambda v: (v * keep).mean())  # noqa: E731
            kls = {name: reduce(value) for name, value in step_kl(current, reference, hp.kind).items()}
            loss = loss + hp.beta * kls[hp.kl]
            s.update({"kl_ref": kls[hp.kl].detach(), "kl_exact": kls["exact"].detach(),
                      "kl_flow_grpo": kls["flow_grpo"].detach()})
        self.manual_backward(loss / slots)
        return s


def trained_indices(trained: torch.Tensor) -> torch.Tensor:
    """(B, T) bool mask with the same count K in every row -> (B, K) step indices, ascending."""
    counts = trained.sum(1)
    if len(counts) and bool((counts != counts[0]).any()):
        raise ValueError(f"every trajectory must train the same number of steps, got {counts.tolist()}")
    k = int(counts[0]) if len(counts) else 0
    return trained.float().argsort(dim=1, descending=True, stable=True)[:, :k].sort(dim=1).values


def _one_or_per_row(index: torch.Tensor) -> int | torch.Tensor:
    """A step shared by every row as an int (one batched step, as at rollout); else the per-row indices."""
    return int(index[0]) if bool((index == index[0]).all()) else index


def _at(values: torch.Tensor, index: int | torch.Tensor) -> torch.Tensor:
    """values[:, index], or values[b, index[b]] per row."""
    if isinstance(index, int):
        return values[:, index]
    return values.gather(1, index.to(values.device)[:, None]).squeeze(1)


def _summary(stats: list[dict[str, torch.Tensor]], first_ratio: list[torch.Tensor], lr: float) -> dict[str, float]:
    out = {k: float(torch.stack([s[k] for s in stats]).mean()) for k in stats[0]} if stats else {}
    if stats:
        out["ratio_min"] = float(torch.stack([s["ratio_min"] for s in stats]).min())
        out["ratio_max"] = float(torch.stack([s["ratio_max"] for s in stats]).max())
        out["first_ratio_min"] = float(torch.stack(first_ratio).min())  # on-policy: exactly 1
        out["first_ratio_max"] = float(torch.stack(first_ratio).max())
    out["lr"] = lr
    return out
