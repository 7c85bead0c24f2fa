"""RewardHackingGuard: stop a run, or restore its best weights, when the training reward keeps rising while the
held-out verified score falls (zoo.rl.guard.reward_hacking)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch

from callbacks.ema import EMACallback
from modules.weights import ShadowWeights, trainable
from zoo.data.writing import write_json_atomic
from zoo.rl.guard import reward_hacking

log = logging.getLogger(__name__)
ACTIONS = ("stop", "restore")


class RewardHackingGuard(L.Callback):
    """After every validation, compare the held-out score (`metric`, a value the module logs in validation, e.g. the
    world verifier's `val/relations` on held-out prompts, SpatialBench's relation score) with the training reward
    (the module's `rl_stats["reward_mean"]`, averaged since the last validation). Each new best held-out score keeps
    a copy of the weights that were evaluated (the EMA average when an EMACallback is on, shard by shard under FSDP2).
    When the reward keeps rising while the held-out score stays below its best (see zoo.rl.guard.reward_hacking),
    action "stop" ends training and "restore" copies the best weights back (into the EMA average too, so the export
    is the best point) and ends training. Writes `<log_dir>/guard.json` (the history and the decision) on rank 0.

    Args:
        metric: the held-out score in trainer.callback_metrics after validation.
        mode: "max" (higher is better) or "min".
        patience: evaluations the held-out score must stay below its best.
        min_drop: how far below the best counts as worse.
        min_rise: how far above its value at the best point the training reward must be.
        action: "stop" or "restore".
    """

    def __init__(self, metric: str = "val/relations", mode: Literal["max", "min"] = "max", patience: int = 2,
                 min_drop: float = 0.02,
                 min_rise: float = 0.0,
                 action: Literal["stop", "restore"] = "restore") -> None:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
        if mode not in ("max", "min") or patience < 1:
            raise ValueError(f"mode must be 'max' or 'min' and patience >= 1, got {mode!r}, {patience}")
        self.metric, self.mode, self.patience, self.action = metric, mode, patience, action
        self.min_drop, self.min_rise = min_drop, min_rise
        self.heldout: list[float] = []
        self.rewards: list[float] = []
        self.steps: list[int] = []
        self.window: list[float] = []
        self.best: ShadowWeights | None = None
        self.best_step: int | None = None
        self.fired: dict[str, Any] | None = None
        self._pending: dict[str, torch.Tensor] | None = None
        self._warned = False

    # the evaluated weights ------------------------------------------------------------------------
    @staticmethod
    def _ema(trainer: L.Trainer) -> EMACallback | None:
        found = [c for c in trainer.callbacks if isinstance(c, EMACallback) and c.weights is not None]
        return found[0] if found else None

    def _evaluated(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, torch.Tensor]:
        """The weights validation saw: the EMA average when on, else the trainable parameters."""
        ema = self._ema(trainer)
        return ema.weights.tensors if ema is not None else trainable(pl_module)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._pending is not None:
            self.best = ShadowWeights(trainable(pl_module))
            self.best.load_state_dict(self._pending, "the guard's best weights")
            self._pending = None

    # the two series -------------------------------------------------------------------------------
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        reward = getattr(pl_module, "rl_stats", {}).get("reward_mean")
        if reward is not None and math.isfinite(reward):
            self.window.append(float(reward))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.metric)
        if value is None:
            if not self._warned:
                log.warning("RewardHackingGuard: no %r after validation (logged: %s); the guard is idle", self.metric,
                            sorted(trainer.callback_metrics))
                self._warned = True
            return
        self.heldout.append(float(value))
        self.rewards.append(sum(self.window) / len(self.window) if self.window else float("nan"))
        self.steps.append(trainer.global_step)
        self.window = []
        verdict = reward_hacking(self.heldout, self.rewards, self.patience, self.min_drop, self.min_rise, self.mode)
        if verdict.best == len(self.heldout) - 1:  # a new best: keep the weights that were evaluated
            evaluated = self._evaluated(trainer, pl_module)
            if self.best is None:
                self.best = ShadowWeights(evaluated)
            else:
                self.best.copy_from(evaluated)
            self.best_step = trainer.global_step
        hacking = trainer.strategy.reduce_boolean_decision(verdict.hacking, all=False)
        if hacking and not trainer.sanity_checking and self.fired is None:
            self._fire(trainer, pl_module, verdict.reason)
        self._write(trainer)

    def _fire(self, trainer: L.Trainer, pl_module: L.LightningModule, reason: str) -> None:
        if self.action == "restore" and self.best is not None:
            self.best.copy_to(trainable(pl_module))
            ema = self._ema(trainer)
            if ema is not None:
                ema.weights.copy_from(trainable(pl_module))
        self.fired = {"step": trainer.global_step, "action": self.action, "reason": reason,
                      "restored_step": self.best_step if self.action == "restore" else None}
        trainer.should_stop = True
        log.warning("RewardHackingGuard at step %d: %s; %s", trainer.global_step, reason,
                    f"restored the weights of step {self.best_step} and stopped" if self.action == "restore"
                    else "stopped")
        for logger in trainer.loggers:
            logger.log_metrics({"guard/fired": 1.0, "guard/best_step": float(self.best_step or 0)},
                               step=trainer.global_step)

    def _write(self, trainer: L.Trainer) -> None:
        if not trainer.is_global_zero:
            return
        out = Path(trainer.log_dir or trainer.default_root_dir) / "guard.json"
        write_json_atomic(out, {"metric": self.metric, "mode": self.mode, "steps": self.steps,
                                "heldout": self.heldout, "rewards": [None if math.isnan(r) else r
                                                                     for r in self.rewards],
                                "best_step": self.best_step, "fired": self.fired})

    # checkpoints ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"heldout": self.heldout, "rewards": self.rewards, "steps": self.steps, "window": self.window,
                "best_step": self.best_step, "fired": self.fired,
                "best": self.best.state_dict() if self.best is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.heldout, self.rewards = list(state["heldout"]), list(state["rewards"])
        self.steps, self.window = list(state["steps"]), list(state["window"])
        self.best_step, self.fired = state["best_step"], state["fired"]
        if state.get("best") is not None:
            if self.best is not None:
                self.best.load_state_dict(state["best"], "the guard's best weights")
            else:
                self._pending = state["best"]

