"""BenchmarkCallback: a benchmark suite (SpatialBench by default) every N steps and at the end of training, on a fixed
prompt subset."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Sequence

import lightning as L
import torch
import torch.distributed as dist

from modules.image_logging import log_image
from zoo.bench.prompts import BenchItem
from zoo.bench.runner import policy_images
from zoo.bench.suite import Suite, get_suite
from zoo.bench.suites import load_suite
from zoo.data.writing import write_json_atomic
from zoo.images import from_uint8, image_grid


def rank_share(items: Sequence[Any], rank: int, world: int) -> list[tuple[int, Any]]:
    """(index, item) pairs of this rank: every world-th item, so the ranks together cover each item once."""
    return [(i, item) for i, item in enumerate(items) if i % world == rank]


def _gather(rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    if not (dist.is_available() and dist.is_initialized()):
        return rows
    parts: list[list[tuple[int, dict]] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, rows)
    return sorted((row for part in parts for row in part), key=lambda r: r[0])


class BenchmarkCallback(L.Callback):
    """Generate with the module's `policy` on a fixed subset of a benchmark suite every `every_n_steps` and when
    training ends; judge (SpatialBench: from pixels); log the table and an image grid to the logger and write
    `<out_dir>/step_N.json`.

    Prompts are split over the ranks and the verdicts gathered on rank 0. When the module has an
    `ema_scope()` context manager (the EMA callback's weights), generation runs inside it.

    Args:
        prompts: the suite's prompts (SpatialBench: world prompt shards, e.g. data/spatialshapes/prompts/val-*.tar).
        count: prompts in the fixed subset (the first ones).
        every_n_steps: optimizer steps between evaluations (0 = only at the end).
        steps: sampling steps.
        batch_size: images per generation batch on each rank.
        seed: base seed of the images (the same images at every evaluation for a fixed policy).
        out_dir: where step_N.json goes; default: the trainer's log dir / "bench".
        grid: images in the logged grid (rank 0's first ones).
        suite: a registered suite name ("spatialbench", "geneval", "tiif", "unigenbench", "dpg") or a dotted path to
            a zoo.bench.suite.Suite subclass.
        variant: the suite's prompt variant ("short" or "long" for TIIF-Bench).
        judge_model: the judge checkpoint of a model-judged suite (path or hub id; "tiny": random, for tests).
        judge_family: the Qwen-VL family of a VLM judge.
    """

    def __init__(self, prompts: str, count: int = 64, every_n_steps: int = 500, steps: int = 8,
                 batch_size: int = 32, seed: int = 0, out_dir: str | None = None, grid: int = 16,
                 suite: str = "spatialbench", variant: str = "short", judge_model: str | None = None,
                 judge_family: str = "qwen2_5_vl") -> None:
        self.prompts, self.count, self.every, self.steps = prompts, count, every_n_steps, steps
        self.batch_size, self.seed, self.out_dir, self.grid = batch_size, seed, out_dir, grid
        self.suite: Suite = get_suite(suite)
        if self.suite.judged and judge_model is None:
            raise ValueError(f"suite {suite!r} is judged by a model: give judge_model (a checkpoint path or hub id)")
        self.variant, self.judge_model, self.judge_family = variant, judge_model, judge_family
        self.judge = None
        self.items: list[BenchItem] = []
        self.last_step = -1

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not self.items:
            self.items = load_suite(self.suite, self.prompts, self.count, self.variant)
        if self.suite.judged and self.judge is None:
            self.judge = self.suite.build_judge(None if self.judge_model == "tiny" else self.judge_model,
                                                self.judge_family)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        if self.every and step > 0 and step % self.every == 0 and step != self.last_step:
            self.evaluate(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step != self.last_step:
            self.evaluate(trainer, pl_module)

    @torch.no_grad()
    def evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, float] | None:
        """Run the subset now; returns the table on rank 0 (None elsewhere)."""
        self.last_step = step = trainer.global_step
        policy = pl_module.policy
        mine = rank_share(self.items, trainer.global_rank, trainer.world_size)
        scope = pl_module.ema_scope() if hasattr(pl_module, "ema_scope") else contextlib.nullcontext()
        was_training = policy.training
        policy.eval()
        with scope:
            arrays = policy_images(policy, [(item, 0) for _, item in mine], self.steps, self.seed, self.batch_size)
        policy.train(was_training)
        verdicts = [self.suite.judge_image(item, array, self.judge) for (_, item), array in zip(mine, arrays)]
        images = from_uint8(arrays[: self.grid]) if arrays else torch.empty(0)
        rows = _gather([(i, v) for (i, _), v in zip(mine, verdicts)])
        if trainer.global_rank != 0:
            return None
        table = self.suite.table([self.items[i] for i, _ in rows], [v for _, v in rows])
        self._report(trainer, step, table, images[: self.grid], len(rows))
        return table

    def _report(self, trainer: L.Trainer, step: int, table: dict[str, float], images: torch.Tensor, n: int) -> None:
        for logger in trainer.loggers:
            logger.log_metrics({f"bench/{k.replace(' ', '_')}": v for k, v in table.items()}, step=step)
        if len(images):
            log_image(trainer.loggers, "bench/samples", image_grid(images), step)
        out = Path(self.out_dir) if self.out_dir else Path(trainer.log_dir or trainer.default_root_dir) / "bench"
        write_json_atomic(out / f"step_{step}.json", {"step": step, "images": n, "table": table})
        print(f"{self.suite.name} at step {step} ({n} prompts): " + json.dumps({k: round(v, 3) for k, v in table.items()}))
