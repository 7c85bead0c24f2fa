"""What an RL run reports: per-step ratio, clip, KL, reward and timing statistics, and rollout image grids."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import lightning as L

from modules.image_logging import log_image
from zoo.images import image_grid


def _log_dir(trainer: L.Trainer) -> Path:
    return Path(trainer.log_dir or trainer.default_root_dir)


class RLStatsTracker(L.Callback):
    """Logs the module's `rl_stats` after every rollout step: reward mean/std (and each named reward), zero-variance
    group fraction, failed samples, ratio mean/min/max, clip fraction, approx KL, KL to the reference, the time
    spent in rollout, reward and update; appends them to `<log_dir>/rl_stats.jsonl` (rank 0) for plots. After each
    validation (the sanity check before training included, as step 0) it appends the module's `val_stats` (the
    held-out prompts' verified scores, rank 0's share) to `<log_dir>/val_stats.jsonl`.

    Args:
        every_n_steps: rollout steps between reports.
        print_every_n_steps: also print one status line this often (0 = never).
    """

    def __init__(self, every_n_steps: int = 1, print_every_n_steps: int = 0) -> None:
        self.every, self.print_every = max(1, every_n_steps), print_every_n_steps
        self.rollouts = 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        stats = getattr(pl_module, "rl_stats", None)
        self.rollouts += 1
        if not stats or self.rollouts % self.every:
            return
        step = trainer.global_step
        clean = {k: float(v) for k, v in stats.items() if v is not None and math.isfinite(float(v))}
        for logger in trainer.loggers:
            logger.log_metrics({f"rl/{k}": v for k, v in clean.items()}, step=step)
        if trainer.is_global_zero:
            path = _log_dir(trainer) / "rl_stats.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a") as f:
                f.write(json.dumps({"step": step, "rollout": self.rollouts, **clean}) + "\n")
            if self.print_every and self.rollouts % self.print_every == 0:
                keys = ("reward_mean", "reward_std", "approx_kl", "kl_ref", "clip_fraction", "zero_variance_groups")
                print(f"step {step}: " + " ".join(f"{k}={clean[k]:.4g}" for k in keys if k in clean), flush=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        stats = getattr(pl_module, "val_stats", None)
        if not stats or not trainer.is_global_zero:
            return
        path = _log_dir(trainer) / "val_stats.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps({"step": trainer.global_step, "rollout": self.rollouts, **stats}) + "\n")
        pl_module.val_stats = None

    def state_dict(self) -> dict[str, Any]:
        return {"rollouts": self.rollouts}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rollouts = int(state.get("rollouts", 0))


class RolloutImages(L.Callback):
    """A grid of the last rollout's images, with their prompts and rewards as text, every `every_n_steps` rollouts.

    Args:
        every_n_steps: rollout steps between grids.
        count: images per grid.
    """

    def __init__(self, every_n_steps: int = 10, count: int = 16) -> None:
        self.every, self.count = max(1, every_n_steps), count
        self.rollouts = 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self.rollouts += 1
        rollout = getattr(pl_module, "last_rollout", None)
        if not rollout or (self.rollouts - 1) % self.every or not trainer.is_global_zero:
            return
        images = rollout["images"][: self.count]
        rows = [f"| {i} | {p} | {float(r):.3f} |" for i, (p, r) in
                enumerate(zip(rollout["prompts"][: self.count], rollout["rewards"][: self.count]))]
        text = "| # | prompt | reward |\n|---|---|---|\n" + "\n".join(rows)
        log_image(trainer.loggers, "rollout/images", image_grid(images), trainer.global_step)
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if hasattr(experiment, "add_text"):
                experiment.add_text("rollout/prompts", text, trainer.global_step)

    def state_dict(self) -> dict[str, Any]:
        return {"rollouts": self.rollouts}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rollouts = int(state.get("rollouts", 0))
