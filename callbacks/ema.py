"""EMA of the trainable parameters, shard by shard under FSDP2; swapped in for validation and export only."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import lightning as L
import torch

from modules.weights import ShadowWeights, trainable


class EMACallback(L.Callback):
    """Exponential moving average of the module's trainable parameters (LoRA or full).

    Each copy has the parameter's own layout, so under FSDP2 every rank averages only its shard (no full copy
    of the model anywhere, unlike Lightning's EMAWeightAveraging, which deep-copies the module). The average
    is swapped in for validation, benchmark callbacks (through the module's `weight_scopes`) and export, and
    travels with checkpoints (gathered to full tensors, re-sharded on load).

    Args:
        decay: the EMA decay (Flow-GRPO: 0.9).
        every_n_steps: optimizer steps between updates (Flow-GRPO: 8).
        warmup: use min((1 + s) / (10 + s), decay) as the decay at update s (early averages follow the weights).
    """

    def __init__(self, decay: float = 0.9, every_n_steps: int = 1, warmup: bool = True) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay, self.every, self.warmup = decay, max(1, every_n_steps), warmup
        self.weights: ShadowWeights | None = None
        self.updates = 0
        self._last_step = 0
        self._pending: dict[str, Any] | None = None
        self._module: L.LightningModule | None = None

    @property
    def shadow(self) -> dict[str, torch.Tensor]:
        """The averaged tensors by parameter name (empty before fitting starts)."""
        return self.weights.tensors if self.weights is not None else {}

    # the averaged parameters ---------------------------------------------------------------------
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.weights = ShadowWeights(trainable(pl_module))
        if hasattr(pl_module, "weight_scopes") and self._module is not pl_module:
            pl_module.weight_scopes.append(lambda: self.swapped_in(pl_module))
        self._module = pl_module
        if self._pending is not None:
            self.weights.load_state_dict(self._pending["shadow"], "EMA weights")
            self._pending = None
        self._last_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        if step // self.every > self._last_step // self.every:
            self.update(pl_module)
        self._last_step = step

    @torch.no_grad()
    def update(self, pl_module: L.LightningModule) -> None:
        """One EMA update from the current parameters."""
        decay = min((1 + self.updates) / (10 + self.updates), self.decay) if self.warmup else self.decay
        self.weights.lerp_(trainable(pl_module), 1 - decay)
        self.updates += 1

    @contextlib.contextmanager
    def swapped_in(self, pl_module: L.LightningModule) -> Iterator[None]:
        """The EMA weights in the module for a while; the trained ones restored after."""
        if self.weights is None:
            yield
            return
        with self.weights.swapped_in(trainable(pl_module)):
            yield

    # checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        full = self.weights.state_dict() if self.weights is not None else {}
        return {"shadow": full, "updates": self.updates, "decay": self.decay, "every_n_steps": self.every}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = int(state.get("updates", 0))
        if self.weights is not None:  # restored after on_fit_start (ModelParallelStrategy): the shards exist already
            self.weights.load_state_dict(state["shadow"], "EMA weights")
        else:  # restored before on_fit_start: the parameters (and their sharding) exist from there on
            self._pending = state
