"""Training progress in the unit a user thinks in: rollouts for online RL (several optimizer steps each), batches
otherwise; on the console (`StepProgressBar`) and in ZOO_PROGRESS_FILE for `zoo pipeline` (`ProgressFileCallback`)."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, TQDMProgressBar

from zoo.progress import ProgressFile


def steps_per_batch(module: L.LightningModule) -> int:
    """Optimizer steps one training batch takes (an RL rollout: inner epochs x minibatches; else 1)."""
    return max(1, int(getattr(module, "optimizer_steps_per_batch", 1)))


def train_progress(trainer: L.Trainer, module: L.LightningModule) -> tuple[int, int | None, str]:
    """(done, total, unit) of the whole fit: batches (rollouts for RL), the total from max_steps when it is set."""
    k = steps_per_batch(module)
    unit = "rollout" if k > 1 or getattr(module, "automatic_optimization", True) is False else "step"
    done = trainer.global_step // k
    total = None
    if trainer.max_steps is not None and trainer.max_steps > 0:
        total = math.ceil(trainer.max_steps / k)
    elif trainer.max_epochs is not None and trainer.max_epochs > 0 and math.isfinite(trainer.num_training_batches):
        total = trainer.max_epochs * int(trainer.num_training_batches)
    return done, total, unit


class StepProgressBar(TQDMProgressBar):
    """Lightning's bar, counting rollouts against the rollouts `max_steps` allows (not against optimizer steps) and
    naming the unit instead of "Epoch 0/-2" when the fit is bounded by steps."""

    @property
    def total_train_batches(self) -> int | float:
        trainer, module = self.trainer, self.trainer.lightning_module
        k = steps_per_batch(module)
        if k > 1 and trainer.max_steps is not None and trainer.max_steps > 0:
            return min(trainer.num_training_batches, math.ceil((trainer.max_steps - trainer.global_step) / k))
        return super().total_train_batches

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        if trainer.max_steps is not None and trainer.max_steps > 0:
            self.train_progress_bar.set_description(f"{train_progress(trainer, trainer.lightning_module)[2]}s")


class ProgressFileCallback(Callback):
    """Keeps ZOO_PROGRESS_FILE (set by `zoo pipeline` for each stage) at the fit's done/total; a no-op without it."""

    def __init__(self) -> None:
        self.file = ProgressFile()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if trainer.is_global_zero:
            self.file.update(*train_progress(trainer, pl_module))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.file.update(*train_progress(trainer, pl_module), force=True)
