"""PromptDataModule: prompt shards for RL, each prompt repeated `group_size` times per step."""

from __future__ import annotations

import random
from typing import Any, Iterator, Literal, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset

from datamodules.pairs import check_counts, check_fraction
from zoo.data.records import RecordError, decode_prompt
from zoo.data.stream import CorruptDataError, EpochLoader, ErrorLog, iter_tar_samples, reader_slot
from zoo.data.urls import expand_urls

Urls = str | Sequence[str] | None
SPLITS = ("train", "val", "test")
STAGE_SPLITS = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ()}


def load_prompts(urls: list[str], on_error: str = "skip", allow_shell_urls: bool = False,
                 max_corrupt_fraction: float | None = None) -> tuple[list[dict], int]:
    """Every prompt record of a shard set, in order, and the number of corrupt records skipped; CorruptDataError
    when more than `max_corrupt_fraction` of them are corrupt."""
    errors = ErrorLog(on_error, "prompts")
    prompts = []
    for url in urls:
        for raw in iter_tar_samples(url, errors, allow_shell_urls):
            try:
                prompts.append(decode_prompt(raw))
            except RecordError as err:
                errors.record(url, raw["__key__"], str(err))
    seen = len(prompts) + errors.count
    if max_corrupt_fraction is not None and errors.count > max_corrupt_fraction * seen:
        raise CorruptDataError(f"{errors.count} of {seen} prompt records corrupt in {urls[0]!r}...: more than "
                               f"max_corrupt_fraction={max_corrupt_fraction}; first errors: {errors.examples[:3]}")
    return prompts, errors.count


def _batch(items: list[dict[str, Any]], groups: list[int]) -> dict[str, Any]:
    return {"key": [p["key"] for p in items], "prompt": [p["prompt"] for p in items],
            "meta": [p["meta"] for p in items], "group": torch.tensor(groups, dtype=torch.long)}


class GroupedPrompts(IterableDataset):
    """Training batches: per step, `world * batch_size / group_size` prompts drawn with a seed shared
    by all ranks, each repeated `group_size` times, and the repeated list split over ranks in order
    (so a group may span ranks; its `group` id is the same everywhere)."""

    def __init__(self, prompts: list[dict], batch_size: int, group_size: int, steps: int, seed: int) -> None:
        self.prompts, self.batch_size, self.group_size = prompts, batch_size, group_size
        self.steps, self.seed, self.epoch = steps, seed, 0
        self.skip_batches = 0  # set by EpochLoader when a run resumes mid-epoch

    def __len__(self) -> int:
        return self.steps

    def batches_per_epoch(self, batch_size: int | None, workers: int) -> int:
        """Batches (steps) per epoch."""
        return self.steps

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rank, world, _, _ = reader_slot()
        total = world * self.batch_size
        if total % self.group_size:
            raise ValueError(f"world_size * batch_size = {total} is not a multiple of group_size = {self.group_size}")
        unique = total // self.group_size
        for step in range(self.skip_batches, self.steps):
            rng = random.Random(f"{self.seed}/{self.epoch}/{step}")
            if unique <= len(self.prompts):
                picks = rng.sample(range(len(self.prompts)), unique)
            else:
                picks = [rng.randrange(len(self.prompts)) for _ in range(unique)]
            order = [g for g in range(unique) for _ in range(self.group_size)]
            mine = order[rank * self.batch_size:(rank + 1) * self.batch_size]
            base = (self.epoch * self.steps + step) * unique
            yield _batch([self.prompts[picks[g]] for g in mine], [base + g for g in mine])


class EvalPrompts(IterableDataset):
    """Evaluation batches: every prompt exactly once across ranks (prompt i goes to rank i % world)."""

    def __init__(self, prompts: list[dict], batch_size: int) -> None:
        self.prompts, self.batch_size = prompts, batch_size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rank, world, _, _ = reader_slot()
        mine = list(range(rank, len(self.prompts), world))
        for start in range(0, len(mine), self.batch_size):
            idx = mine[start:start + self.batch_size]
            yield _batch([self.prompts[i] for i in idx], idx)


class PromptDataModule(L.LightningDataModule):
    """Prompts for RL from prompt shards (`json` with at least `prompt`).

    Args:
        train, val, test: shard specs per split.
        batch_size: samples per rank per training step, repeats included.
        group_size: copies of each prompt per step (G); world_size * batch_size must be a multiple.
        steps_per_epoch: training batches per epoch.
        eval_batch_size: prompts per evaluation batch.
        seed: seeds the prompt draw (the same on every rank).
        on_error: "skip" corrupt records (counted, logged) or "raise".
        allow_shell_urls: accept `pipe:` URLs.
        max_corrupt_fraction: stop with a clear error when more than this share of a split's records is corrupt.
    """

    def __init__(self, train: Urls = None, val: Urls = None, test: Urls = None, batch_size: int = 8,
                 group_size: int = 4, steps_per_epoch: int = 100, eval_batch_size: int = 16, seed: int = 0,
                 on_error: Literal["skip", "raise"] = "skip", allow_shell_urls: bool = False,
                 max_corrupt_fraction: float | None = None) -> None:
        super().__init__()
        check_counts(batch_size=batch_size, group_size=group_size, steps_per_epoch=steps_per_epoch,
                     eval_batch_size=eval_batch_size)
        check_fraction(max_corrupt_fraction)
        self.max_corrupt_fraction = max_corrupt_fraction
        self.specs = {"train": train, "val": val, "test": test}
        self.batch_size, self.group_size, self.steps_per_epoch = batch_size, group_size, steps_per_epoch
        self.eval_batch_size, self.seed, self.on_error = eval_batch_size, seed, on_error
        self.allow_shell_urls = allow_shell_urls
        self.prompts: dict[str, list[dict]] = {}
        self.corrupt: dict[str, int] = {}
        self._train_epoch = 0
        self._train_loader: EpochLoader | None = None

    def setup(self, stage: str | None = None) -> None:
        """Read the prompts of every configured split (a missing shard fails here, naming it)."""
        for split, spec in self.specs.items():
            if split in STAGE_SPLITS.get(stage, SPLITS) and spec is not None and split not in self.prompts:
                urls = expand_urls(spec, self.allow_shell_urls)
                self.prompts[split], self.corrupt[split] = load_prompts(urls, self.on_error, self.allow_shell_urls,
                                                                        self.max_corrupt_fraction)
                if not self.prompts[split]:
                    raise ValueError(f"no readable prompts in {split} shards {spec!r}")

    def _split(self, split: str) -> list[dict]:
        self.setup({"train": "fit", "val": "validate", "test": "test"}[split])
        if split not in self.prompts:
            raise ValueError(f"no {split} prompts configured: set data.init_args.{split}")
        return self.prompts[split]

    def train_dataloader(self) -> EpochLoader:
        dataset = GroupedPrompts(self._split("train"), self.batch_size, self.group_size, self.steps_per_epoch, self.seed)
        self._train_loader = EpochLoader(dataset, batch_size=None, start_epoch=self._train_epoch)
        return self._train_loader

    def val_dataloader(self) -> DataLoader | list:
        """Validation prompts, or no loader (validation skipped) when `val` is not set."""
        if self.specs["val"] is None:
            return []
        return DataLoader(EvalPrompts(self._split("val"), self.eval_batch_size), batch_size=None)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(EvalPrompts(self._split("test"), self.eval_batch_size), batch_size=None)

    def state_dict(self) -> dict[str, Any]:
        """The next training epoch, so a resumed run draws the same prompts."""
        epoch = self._train_loader.next_epoch if self._train_loader is not None else self._train_epoch
        return {"train_epoch": epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._train_epoch = int(state.get("train_epoch", 0))
