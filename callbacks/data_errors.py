"""Log how many corrupt shard samples the datamodule skipped."""

from __future__ import annotations

from typing import Any

import lightning as L


class CorruptSampleLogger(L.Callback):
    """Logs `data/corrupt_skipped` (summed over ranks) at the end of each train/val/test epoch."""

    def _log(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        counter = getattr(trainer.datamodule, "corrupt", None)
        if counter is None or not hasattr(counter, "total"):
            return
        pl_module.log(f"data/corrupt_skipped_{stage}", float(counter.total(stage)), reduce_fx="sum", sync_dist=True)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(trainer, pl_module, "train")

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(trainer, pl_module, "validate")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._log(trainer, pl_module, "test")
