"""Streaming WebDataset shards as torch IterableDatasets, correct under several ranks and workers.

Training streams resample shards forever and stop at a fixed per-rank length; evaluation streams
visit every sample exactly once across ranks and workers. Corrupt samples are skipped and counted
(`on_error="skip"`) or raised (`"raise"`), always with the shard and key in the message.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Iterator, Sequence

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from zoo.data.records import RecordError
from zoo.data.samples import ON_ERROR, CorruptSampleError, ErrorLog, iter_tar_samples, split_member  # noqa: F401

log = logging.getLogger(__name__)
MIN_CHECKED = 64  # samples a reader sees before it judges the share of corrupt ones (also at an epoch's end)
__all__ = ["CorruptSampleError", "ErrorLog", "iter_tar_samples", "split_member", "ShardStream", "EpochLoader",
           "CorruptDataError"]


class CorruptDataError(RuntimeError):
    """Too much of a stream is corrupt to go on: nothing decodes, or more than `max_corrupt_fraction`."""


def reader_slot() -> tuple[int, int, int, int]:
    """(rank, world size, worker id, workers per rank) of the calling process."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info else (0, 1)
    return rank, world, worker, workers


def split_quota(total: int, parts: int, index: int) -> int:
    """The size of part `index` when `total` items are dealt into `parts` parts."""
    return total // parts + (1 if index < total % parts else 0)


class ShardStream(IterableDataset):
    """Decoded samples from tar shards.

    Args:
        urls: expanded shard URLs (see `zoo.data.urls.expand_urls`).
        decode: raw sample -> decoded sample; raise `RecordError` for bad records.
        train: resample shards forever and stop at `samples_per_epoch // world_size` per rank;
            otherwise visit every sample once across all ranks and workers.
        samples_per_epoch: global samples per training epoch.
        seed: seeds the training shard choice and shuffle (with the epoch, rank and worker).
        shuffle_buffer: training shuffle buffer size (0 = no shuffle within shards).
        on_error: "skip" (count and log) or "raise".
        allow_shell_urls: allow `pipe:` URLs.
        max_corrupt_fraction: stop with `CorruptDataError` when a reader finds more than this share of its samples
            corrupt (judged from 64 samples on, and at the end of an epoch); None: only when nothing decodes. A
            training epoch always stops with that error when none of its first 64 samples decodes.
        split: evaluation streams only: ranks and workers share the samples (True) or every reader reads them all
            (False: e.g. a fixed benchmark subset that each rank loads whole and then deals out by index).

    A training epoch yields exactly its quota of decoded samples (corrupt ones are replaced by further reads).
    """

    def __init__(self, urls: Sequence[str], decode: Callable[[dict], dict], *, train: bool,
                 samples_per_epoch: int | None = None, seed: int = 0, shuffle_buffer: int = 0,
                 on_error: str = "skip", allow_shell_urls: bool = False,
                 max_corrupt_fraction: float | None = None, split: bool = True) -> None:
        if not urls:
            raise ValueError("ShardStream needs at least one shard URL")
        if train and (samples_per_epoch is None or samples_per_epoch < 1):
            raise ValueError(f"a training stream needs samples_per_epoch >= 1, got {samples_per_epoch}")
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        if max_corrupt_fraction is not None and not 0.0 <= max_corrupt_fraction <= 1.0:
            raise ValueError(f"max_corrupt_fraction must be in [0, 1] or None, got {max_corrupt_fraction!r}")
        self.max_corrupt_fraction = max_corrupt_fraction
        self.urls, self.decode, self.train = list(urls), decode, train
        self.samples_per_epoch, self.seed, self.shuffle_buffer = samples_per_epoch, seed, shuffle_buffer
        self.on_error, self.allow_shell_urls = on_error, allow_shell_urls
        self.split = split
        self.epoch = 0
        self.corrupt = 0  # corrupt samples met by the last pass over the stream in this process
        self.skip_batches = 0  # set by EpochLoader when a run resumes mid-epoch
        self.batch_size = 1

    def batches_per_epoch(self, batch_size: int | None, workers: int) -> int | None:
        """Training batches per epoch on this rank (each worker batches its own quota)."""
        if not self.train or not batch_size:
            return None
        self.batch_size = batch_size
        _, world, _, _ = reader_slot()
        per_rank = self.samples_per_epoch // world
        return sum(-(-split_quota(per_rank, workers, w) // batch_size) for w in range(workers))

    def __len__(self) -> int:
        if not self.train:
            raise TypeError("an evaluation stream has no length before it is read")
        rank, world, _, _ = reader_slot()
        return self.samples_per_epoch // world

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rank, world, worker, workers = reader_slot()
        if self.train:  # DataLoader asks workers round-robin from worker 0: after n batches, worker 0 plays n % W
            worker = (worker + self.skip_batches) % workers
        slot, slots = (rank * workers + worker, world * workers) if self.train or self.split else (0, 1)
        errors = ErrorLog(self.on_error, f"rank {rank} worker {worker}")
        samples = self._train_raw(rank, worker, errors) if self.train else self._eval_raw(slot, slots, errors)
        quota = split_quota(self.samples_per_epoch // world, workers, worker) if self.train else None
        decoded, held = 0, None
        skip = self._skip_for(worker, workers) if self.train else 0
        for raw in samples if quota != 0 else ():
            try:
                sample = self.decode(raw)
            except RecordError as err:
                errors.record(raw["__url__"], raw["__key__"], str(err))
                self.corrupt = errors.count
                self._judge(errors, decoded)
                continue
            decoded += 1
            if skip:
                skip -= 1  # already served before the run was resumed
            else:
                if held is not None:
                    yield self._stamp(held, slot, errors)
                held = sample  # held back one step so that the last sample carries the final error count
            if quota is not None and decoded >= quota:
                break
        self.corrupt = errors.count
        self._judge(errors, decoded, final=True)
        if held is not None:
            yield self._stamp(held, slot, errors)
        if errors.count:
            log.warning("rank %d worker %d: %d samples read, %d corrupt samples skipped", rank, worker, decoded,
                        errors.count)

    def _judge(self, errors: ErrorLog, decoded: int, final: bool = False) -> None:
        """Stop with CorruptDataError when nothing decodes (training) or too large a share is corrupt."""
        bad, seen = errors.count, errors.count + decoded
        if not bad or (seen < MIN_CHECKED and not final):
            return
        first = "; ".join(errors.examples[:3])
        if self.train and decoded == 0:
            raise CorruptDataError(f"{errors.reader}: none of the {bad} samples read this epoch decodes, in "
                                   f"{len(self.urls)} shards (first: {self.urls[0]!r}); first errors: {first}")
        limit = self.max_corrupt_fraction
        if limit is not None and bad > limit * seen:
            raise CorruptDataError(f"{errors.reader}: {bad} of {seen} samples corrupt, more than "
                                   f"max_corrupt_fraction={limit}; first errors: {first}")

    def _skip_for(self, worker: int, workers: int) -> int:
        """Samples this worker served before a resume: DataLoader takes batches round-robin."""
        served = self.skip_batches // workers + (1 if worker < self.skip_batches % workers else 0)
        return served * self.batch_size

    @staticmethod
    def _stamp(sample: dict[str, Any], slot: int, errors: ErrorLog) -> dict[str, Any]:
        sample["__reader__"], sample["__errors__"] = slot, errors.count
        return sample

    def _eval_raw(self, slot: int, slots: int, errors: ErrorLog) -> Iterator[dict[str, Any]]:
        if len(self.urls) >= slots:  # whole shards per reader
            for url in self.urls[slot::slots]:
                yield from iter_tar_samples(url, errors, self.allow_shell_urls)
            return
        # fewer shards than readers: every reader walks all shards and keeps every slots-th sample;
        # only reader 0 reports unreadable shard parts, which all readers meet
        quiet = ErrorLog("skip", errors.reader)
        index = 0
        for url in self.urls:
            for raw in iter_tar_samples(url, errors if slot == 0 else quiet, self.allow_shell_urls):
                if index % slots == slot:
                    yield raw
                index += 1

    def _train_raw(self, rank: int, worker: int, errors: ErrorLog) -> Iterator[dict]:
        """Raw samples forever: shards drawn at random (seeded per epoch, rank and worker), shuffled in a buffer."""
        rng = random.Random(f"{self.seed}/{self.epoch}/{rank}/{worker}")
        buffer: list[dict] = []
        idle_shards = 0
        while True:
            url = self.urls[rng.randrange(len(self.urls))]
            got = 0
            for raw in iter_tar_samples(url, errors, self.allow_shell_urls):
                got += 1
                buffer.append(raw)
                if len(buffer) > self.shuffle_buffer:
                    yield buffer.pop(rng.randrange(len(buffer)))
            idle_shards = 0 if got else idle_shards + 1
            if idle_shards > 2 * len(self.urls) + 10:
                raise CorruptDataError(f"no readable samples in {len(self.urls)} shards (first: {self.urls[0]!r}); "
                                       f"errors: {errors.examples[:3]}")


class EpochLoader(DataLoader):
    """A DataLoader for our iterable datasets that tells them which epoch starts, counts the batches
    it serves, and saves/restores that position (Lightning checkpoints stateful loaders), so a
    resumed run continues with the same data where it stopped."""

    def __init__(self, *args: Any, start_epoch: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.next_epoch = start_epoch
        self._epoch: int | None = None
        self._served = 0
        self._skip = 0

    def batches_per_epoch(self) -> int | None:
        """Batches in one epoch on this rank, when the dataset knows."""
        count = getattr(self.dataset, "batches_per_epoch", None)
        return count(self.batch_size, max(self.num_workers, 1)) if callable(count) else None

    def __iter__(self):
        if hasattr(self.dataset, "epoch"):
            self.dataset.epoch = self.next_epoch
        if hasattr(self.dataset, "skip_batches"):
            self.dataset.skip_batches = self._skip
        self._epoch, self._served, self._skip = self.next_epoch, self._skip, 0
        self.next_epoch += 1
        for batch in super().__iter__():
            self._served += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """The epoch being read and how many batches of it were served."""
        if self._epoch is None:
            return {"epoch": self.next_epoch, "served": 0}
        return {"epoch": self._epoch, "served": self._served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        epoch, served = int(state["epoch"]), int(state["served"])
        full = self.batches_per_epoch()
        if full is not None and served >= full:  # saved at the end of an epoch: start the next one
            epoch, served = epoch + 1, 0
        self.next_epoch, self._skip = epoch, served


def stamp_errors(samples: list[dict[str, Any]]) -> dict[int, int]:
    """Per reader, the highest corrupt-sample count stamped on these samples."""
    counts: dict[int, int] = {}
    for s in samples:
        reader, n = s.get("__reader__"), s.get("__errors__", 0)
        if reader is not None:
            counts[reader] = max(counts.get(reader, 0), n)
    return counts
