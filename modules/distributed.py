"""The two jobs every training module shares, done once: `configure_model` (FSDP2 through `zoo.dist.fsdp.apply_fsdp`,
then meta-built weights materialised) and the export when fitting ends (FSDP2 shards gathered on every rank, rank 0
writes)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import ContextManager

import torch
from lightning.pytorch.strategies import ModelParallelStrategy
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from zoo.dist.fsdp import ShardUnit, apply_fsdp, fsdp_mesh, full_state_dict

log = logging.getLogger(__name__)


class ShardedModel:
    """Mixin of a LightningModule: `configure_model` shards `shard_units()` with the one `apply_fsdp` (under
    `ModelParallelStrategy`: on one mesh dimension, or hybrid with `hybrid_shard`: replicated across nodes, sharded
    within; mixed precision in `param_dtype`; activation checkpointing with `activation_checkpointing`, with or
    without a mesh), then calls `materialize_weights` (meta-built weights allocated and filled, each rank its shards).
    The three options are read from the module's hyperparameters; absent ones are off."""

    _sharded = False

    def shard_units(self) -> list[ShardUnit]:
        """The models to shard, in order (a subclass says which)."""
        raise NotImplementedError

    def materialize_weights(self, device: torch.device) -> None:
        """Allocate and fill what was built on the meta device (nothing by default)."""

    def configure_model(self) -> None:
        hp = self.hparams
        parallel = isinstance(self.trainer.strategy, ModelParallelStrategy)
        if not self._sharded:
            mesh = None
            if parallel:
                mesh = fsdp_mesh(self.device_mesh, self.trainer.num_nodes if hp.get("hybrid_shard") else 1)
                rank_zero_info(f"FSDP2 mesh: {dict(zip(mesh.mesh_dim_names, mesh.shape))}")
            apply_fsdp(self.shard_units(), mesh, bool(hp.get("activation_checkpointing")), hp.get("param_dtype"))
            self._sharded = parallel
        self.materialize_weights(self.trainer.strategy.root_device)


class ExportAtFitEnd:
    """Mixin of a LightningModule: when fitting ends, `export(hparams.export_dir)` if set. `export` gathers the full
    state of `export_model()` from FSDP2 shards on every rank (inside `export_scope()`, e.g. EMA weights swapped in),
    then rank 0 writes it with `write_export`."""

    exported = "model"  # what the log line calls it

    def export_model(self) -> nn.Module:
        """The module whose weights are written."""
        raise NotImplementedError

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """Write the export folder; `state`: the full state dict when the model is sharded, else None."""
        raise NotImplementedError

    def export_scope(self) -> ContextManager:
        """Weights to export inside (default: the training weights)."""
        return contextlib.nullcontext()

    def export(self, folder: str | Path) -> Path | None:
        """Write the export folder (every rank takes part in the gather; rank 0 writes and gets the path)."""
        with self.export_scope():
            state = full_state_dict(self.export_model())
            if self._trainer is None or self.trainer.is_global_zero:  # no trainer: a module used on its own
                return self.write_export(Path(folder), state)
        return None

    def on_fit_end(self) -> None:
        if self.hparams.get("export_dir"):
            path = self.export(self.hparams.export_dir)
            if path is not None:
                log.info("%s exported to %s", self.exported, path)
