"""DiffusionNFTModule: DiffusionNFT (online RL on the forward process) on a flow-matching policy (Lightning glue; the
arithmetic is zoo.rl.nft)."""

from __future__ import annotations

import time
from typing import Any, Literal

import torch

from modules.rl import OnlineRLModule
from modules.weights import ShadowWeights, trainable
from zoo.policy.base import FlowPolicy, TextEmbeds
from zoo.policy.sampler import seeded_noise
from zoo.rl.grpo import masked_mean
from zoo.rl.nft import WEIGHTINGS, nft_loss, optimality_weight, sampling_decay, training_times
from zoo.rl.rewards import Reward


class DiffusionNFTModule(OnlineRLModule):
    """DiffusionNFT: per step, the sampling policy draws clean images with any solver (the ODE by default; CFG-free),
    the rewards become optimality weights r in [0, 1], and `minibatches` optimizer steps train the flow-matching loss
    on those clean images, contrasting the implicit positive and negative policies built from the current and the
    sampling velocity. No log-probabilities, no trajectories: only the clean samples are kept. After each step the
    sampling policy follows the trained one by a soft update.

    Args:
        policy: a FlowPolicy (Flux, SD3), LoRA or full.
        reward: a Reward or a RewardMix (SpatialScore folder, verifier, ...); frozen.
        init_from: a folder from `FlowPolicy.save` to start from (e.g. the SFT policy).
        steps: sampler steps per rollout.
        noise_level: the sampler's noise level (0: the Euler ODE).
        kind: the sampler when noise_level > 0: "sde", "cps" or "dance" (as in GRPOModule).
        nft_beta: the paper's beta, the strength of the implicit policies (1.0; 0.1 for their OCR setting).
        train_fraction: the noise levels trained per sample, floor(steps * fraction) of the sampler's own schedule.
        weighting: "adaptive" (the clean-sample error over its own mean absolute value, the paper's) or "velocity".
        kl_weight: weight of mean (v_theta - v_ref)^2 to the reference (the adapter-free base; 1e-4 in the paper).
        sampling_decay_rate: the soft update of the sampling policy after each step is old <- d old + (1 - d) current
            with d = min(rate (optimizer step - flat), max) (0 before flat); this is the rate.
        sampling_decay_max: the most d reaches.
        sampling_decay_flat: optimizer steps before d starts to grow.
        zero_advantage: samples at r = 1/2 (no better than their group) "keep" training (they pull the policy
            towards the sampling one, as in the paper) or "drop"; samples without a reward never train.
        minibatches: optimizer steps per rollout (the rollout runs in the same chunks).
        adv_std: the std that normalises advantages: "group" (each group's own) or "batch" (all finite rewards;
            Flow-GRPO's default); see zoo.rl.grpo.group_advantages.
        adv_clip: advantages are clipped to +-adv_clip, which also sets the optimality weights r.
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

    def __init__(self, policy: FlowPolicy, reward: Reward, init_from: str | None = None, steps: int = 10,
                 noise_level: float = 0.0, kind: Literal["sde", "cps", "dance"] = "sde", nft_beta: float = 1.0,
                 train_fraction: float = 0.99, weighting: Literal["adaptive", "velocity"] = "adaptive",
                 kl_weight: float = 0.0, sampling_decay_rate: float = 0.001, sampling_decay_max: float = 0.5,
                 sampling_decay_flat: int = 0, zero_advantage: Literal["keep", "drop"] = "keep",
                 minibatches: int = 1, adv_std: Literal["group", "batch"] = "batch", adv_clip: float = 5.0,
                 top_k: int | None = None, max_failed_fraction: float = 0.5, lr: float = 3e-4,
                 weight_decay: float = 1e-4, warmup_steps: int = 0, betas: tuple[float, float] = (0.9, 0.999),
                 grad_clip: float = 1.0, eval_steps: int = 8, seed: int = 0, export_dir: str | None = None,
                 activation_checkpointing: bool = False, hybrid_shard: bool = False,
                 param_dtype: Literal["bfloat16", "float16", "float32"] | None = None) -> None:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if zero_advantage not in ("keep", "drop"):
            raise ValueError(f"zero_advantage must be 'keep' or 'drop', got {zero_advantage!r}")
        if nft_beta <= 0:
            raise ValueError(f"nft_beta must be > 0, got {nft_beta}")
        super().__init__(policy, reward, init_from, reference=kl_weight > 0)
        self.sampling: ShadowWeights | None = None  # the sampling ("old") policy's trainable weights
        self._pending_sampling: dict[str, torch.Tensor] | None = None

    # the sampling policy -----------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        self.sampling = ShadowWeights(trainable(self.policy))  # starts as the policy itself
        if self._pending_sampling is not None:
            self.sampling.load_state_dict(self._pending_sampling, "DiffusionNFT sampling weights")
            self._pending_sampling = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)  # the frozen parts' fingerprint
        if self.sampling is not None:
            checkpoint["nft_sampling_policy"] = self.sampling.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get("nft_sampling_policy")
        if saved is None:
            return
        if self.sampling is not None:  # restored after on_fit_start (ModelParallelStrategy): the shards exist
            self.sampling.load_state_dict(saved, "DiffusionNFT sampling weights")
        else:
            self._pending_sampling = saved

    def _sampling_scope(self):
        return self.sampling.swapped_in(trainable(self.policy))

    # the step ------------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        prompts = list(batch["prompt"])
        seeds = self._seeds(len(prompts))
        t0 = time.perf_counter()
        images, clean = self.rollout(prompts, seeds)
        t1 = time.perf_counter()
        adv, local, reward_stats = self.score(batch, images)
        t2 = time.perf_counter()
        rows = adv.finite[local] if self.hparams.zero_advantage == "keep" else adv.keep[local]
        r = optimality_weight(adv.values[local], self.hparams.adv_clip)
        update = self.update(clean, r, rows, prompts, seeds)
        decay = self.refresh_sampling_policy()
        t3 = time.perf_counter()
        self.rl_stats = {**reward_stats, **update, "sampling_decay": decay, "time_rollout": t1 - t0,
                         "time_reward": t2 - t1, "time_update": t3 - t2}

    def _chunk(self, n: int) -> int:
        if n % self.hparams.minibatches:
            raise ValueError(f"the per-rank batch ({n}) must be a multiple of minibatches ({self.hparams.minibatches})")
        return n // self.hparams.minibatches

    @torch.no_grad()
    def rollout(self, prompts: list[str], seeds: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and their clean latents from the sampling policy (any sampler; no trajectories kept)."""
        hp = self.hparams
        with self._sampling_scope():
            images, trajectories = self.policy.generate(prompts, seeds, steps=hp.steps, noise_level=hp.noise_level,
                                                        kind=hp.kind, batch_size=self._chunk(len(prompts)))
        return images, torch.cat([t.final for t in trajectories])

    def update(self, clean: torch.Tensor, r: torch.Tensor, rows: torch.Tensor, prompts: list[str],
               seeds: list[int]) -> dict[str, float]:
        """`minibatches` optimizer steps of the NFT loss on the clean samples at noise levels from the sampler's
        schedule (fresh noise per sample and level, seeded)."""
        hp = self.hparams
        sigmas = self.policy.sigmas(hp.steps)
        count = max(1, int(hp.steps * hp.train_fraction))
        gen = torch.Generator().manual_seed((hp.seed * 7919 + self.global_step) * 1009 + self.global_rank)
        times = training_times(sigmas, len(prompts), count, gen)
        chunk, stats = self._chunk(len(prompts)), []
        for m in range(hp.minibatches):
            part = slice(m * chunk, (m + 1) * chunk)
            x0, text = clean[part].to(self.device), self.policy.encode_text(prompts[part])
            for k in range(count):
                eps = seeded_noise(seeds[part], x0.shape[1:], salt=10_000 + k, device=x0.device)
                stats.append(self._level_loss(x0, eps, times[part, k].to(x0.device), text, r[part].to(x0.device),
                                              rows[part].to(x0.device), count))
            self.optimizer_step()
        out = {k: float(torch.stack([s[k] for s in stats]).mean()) for k in stats[0]}
        return {**out, "r_mean": float(r[rows].mean()) if bool(rows.any()) else float("nan"),
                "lr": float(self.lr_schedulers().get_last_lr()[0])}

    def _level_loss(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, text: TextEmbeds, r: torch.Tensor,
                    rows: torch.Tensor, count: int) -> dict[str, torch.Tensor]:
        """Backward of one noise level's share of the loss: the NFT loss (+ kl_weight times the velocity distance
        to the reference); its statistics."""
        hp = self.hparams
        tb = t.view(-1, *[1] * (x0.ndim - 1))
        xt = (1 - tb) * x0 + tb * eps
        with torch.no_grad(), self._sampling_scope():
            v_old = self.policy.model_velocity(xt, t, text)
        v_theta = self.policy.model_velocity(xt, t, text)
        out = nft_loss(v_theta, v_old, eps - x0, t, r, hp.nft_beta, hp.weighting)
        loss = masked_mean(out.loss, rows)
        stats = {"loss": loss.detach(), "positive_loss": masked_mean(out.positive, rows),
                 "negative_loss": masked_mean(out.negative, rows),
                 "old_deviation": ((v_theta.detach().float() - v_old.float()) ** 2).mean()}
        if hp.kl_weight > 0:
            with torch.no_grad(), self._reference_scope():
                v_ref = self.policy.model_velocity(xt, t, text)
            kl = ((v_theta.float() - v_ref.float()) ** 2).reshape(len(t), -1).mean(1).mean()
            loss = loss + hp.kl_weight * kl
            stats["kl_ref"] = kl.detach()
        self.manual_backward(loss / count)
        return stats

    def refresh_sampling_policy(self) -> float:
        """The soft update of the sampling policy towards the trained one; returns the decay used."""
        hp = self.hparams
        decay = sampling_decay(self.global_step, hp.sampling_decay_rate, hp.sampling_decay_max,
                               hp.sampling_decay_flat)
        self.sampling.lerp_(trainable(self.policy), 1 - decay)
        return decay
