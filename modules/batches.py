"""The handshake between a training module and its datamodule: the module says how its batches are collated, in one
call to the datamodule's `connect` (the litgpt `data.connect(...)` pattern), instead of overwriting attributes."""

from __future__ import annotations

from typing import Callable

import lightning as L


def connect_batches(trainer: L.Trainer | None, collate_fn: Callable, train_collate_fn: Callable | None = None) -> None:
    """Give the trainer's datamodule the module's collation (`train_collate_fn`: for training batches only); a no-op
    when dataloaders were passed without a datamodule. A datamodule without `connect` is an error naming it."""
    datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
    if datamodule is None:
        return
    connect = getattr(datamodule, "connect", None)
    if connect is None:
        raise TypeError(f"{type(datamodule).__name__} cannot take this module's batches: it has no "
                        "connect(collate_fn, train_collate_fn) (see datamodules.PreferencePairDataModule)")
    connect(collate_fn=collate_fn, train_collate_fn=train_collate_fn)
