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
from zoo.data.tar import TarCorrupt, TarTruncated, iter_members
from zoo.data.urls import open_url

log = logging.getLogger(__name__)
ON_ERROR = ("skip", "raise")
DETAILED_REPORTS = 10  # per reader; later errors are logged every 100th


class CorruptSampleError(RuntimeError):
    """A shard sample could not be read and `on_error` is "raise"."""


class ErrorLog:
    """Counts and reports the corrupt samples one reader met."""

    def __init__(self, on_error: str = "skip", reader: str = "reader 0") -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.on_error, self.reader = on_error, reader
        self.count = 0
        self.examples: list[str] = []

    def record(self, shard: str, key: str | None, reason: str) -> None:
        """Note one bad sample (or unreadable shard part); raise when asked to."""
        where = f"shard {shard!r}" + (f", key {key!r}" if key else "")
        message = f"{where}: {reason}"
        if self.on_error == "raise":
            raise CorruptSampleError(message)
        self.count += 1
        if len(self.examples) < DETAILED_REPORTS:
            self.examples.append(message)
        if self.count <= DETAILED_REPORTS or self.count % 100 == 0:
            log.warning("%s skipped a corrupt sample (%d so far): %s", self.reader, self.count, message)


def split_member(name: str) -> tuple[str, str]:
    """WebDataset naming: the key is the path up to the first dot of the file name."""
    folder, _, base = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), ext.lower()


def iter_tar_samples(url: str, errors: ErrorLog, allow_shell_urls: bool = False) -> Iterator[dict[str, Any]]:
    """Group the members of one tar shard into samples {__key__, __url__, <ext>: bytes}.

    A truncated or corrupt shard is reported once (shard and last key); its samples before the
    damage are kept, the one being read is dropped.
    """
    try:
        raw = open_url(url, allow_shell_urls)
    except OSError as err:
        errors.record(url, None, f"cannot open shard: {err}")
        return
    current: dict[str, Any] | None = None
    try:
        with raw:
            for name, data in iter_members(raw):
                key, ext = split_member(name)
                if current is not None and key != current["__key__"]:
                    yield current
                    current = None
                if current is None:
                    current = {"__key__": key, "__url__": url}
                if ext in current:
                    errors.record(url, key, f"duplicate member {name!r}")
                current[ext] = data
    except (TarTruncated, TarCorrupt, OSError, ValueError) as err:
        last = current["__key__"] if current else None
        errors.record(url, last, f"truncated or unreadable tar ({type(err).__name__}: {err}); rest of shard skipped")
        return
    if current is not None:
        yield current


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
    """

    def __init__(self, urls: Sequence[str], decode: Callable[[dict], dict], *, train: bool,
                 samples_per_epoch: int | None = None, seed: int = 0, shuffle_buffer: int = 0,
                 on_error: str = "skip", allow_shell_urls: bool = False) -> None:
        if not urls:
            raise ValueError("ShardStream needs at least one shard URL")
        if train and (samples_per_epoch is None or samples_per_epoch < 1):
            raise ValueError(f"a training stream needs samples_per_epoch >= 1, got {samples_per_epoch}")
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.urls, self.decode, self.train = list(urls), decode, train
        self.samples_per_epoch, self.seed, self.shuffle_buffer = samples_per_epoch, seed, shuffle_buffer
        self.on_error, self.allow_shell_urls = on_error, allow_shell_urls
        self.epoch = 0
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
        slot, slots = rank * workers + worker, world * workers
        errors = ErrorLog(self.on_error, f"rank {rank} worker {worker}")
        samples = self._train_raw(rank, world, worker, workers, errors) if self.train else self._eval_raw(slot, slots, errors)
        count, held = 0, None
        skip = self._skip_for(worker, workers) if self.train else 0
        for raw in samples:
            try:
                sample = self.decode(raw)
            except RecordError as err:
                errors.record(raw["__url__"], raw["__key__"], str(err))
                continue
            if skip:
                skip -= 1  # already served before the run was resumed
                continue
            count += 1
            if held is not None:
                yield self._stamp(held, slot, errors)
            held = sample  # held back one step so that the last sample carries the final error count
        if held is not None:
            yield self._stamp(held, slot, errors)
        if errors.count:
            log.warning("rank %d worker %d: %d samples read, %d corrupt samples skipped", rank, worker, count, errors.count)

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

    def _train_raw(self, rank: int, world: int, worker: int, workers: int, errors: ErrorLog) -> Iterator[dict]:
        quota = split_quota(self.samples_per_epoch // world, workers, worker)
        rng = random.Random(f"{self.seed}/{self.epoch}/{rank}/{worker}")
        buffer: list[dict] = []
        produced, idle_shards = 0, 0
        while produced < quota:
            url = self.urls[rng.randrange(len(self.urls))]
            got = 0
            for raw in iter_tar_samples(url, errors, self.allow_shell_urls):
                got += 1
                buffer.append(raw)
                if len(buffer) > self.shuffle_buffer:
                    yield buffer.pop(rng.randrange(len(buffer)))
                    produced += 1
                    if produced >= quota:
                        return
            idle_shards = 0 if got else idle_shards + 1
            if idle_shards > 2 * len(self.urls) + 10:
                raise RuntimeError(f"no readable samples in {len(self.urls)} shards (first: {self.urls[0]!r}); "
                                   f"errors: {errors.examples[:3]}")
        # unreachable: the loop returns when the quota is met


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
