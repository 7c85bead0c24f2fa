"""PreferencePairDataModule: pair shards (chosen, rejected, prompt, metadata) to batches."""

from __future__ import annotations

from typing import Any, Callable, Literal, Sequence

import lightning as L
import torch

from zoo.data.records import RecordError, decode_pair
from zoo.data.stream import EpochLoader, ShardStream, stamp_errors
from zoo.data.urls import expand_urls

Urls = str | Sequence[str] | None
SPLITS = ("train", "val", "test")
STAGE_SPLITS = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ()}


def check_counts(low: int = 1, **values: Any) -> None:
    """Each value an integer >= low, else one error naming its config key (data.init_args.<name>)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"data.init_args.{name} must be an integer >= {low}, got {value!r}")


def check_fraction(value: float | None) -> None:
    """None or a number in [0, 1] (data.init_args.max_corrupt_fraction)."""
    if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"data.init_args.max_corrupt_fraction must be in [0, 1] or null, got {value!r}")


class PairDecoder:
    """Decode a raw pair sample and apply the (backbone's) image transform to both images."""

    def __init__(self, image_transform: Callable | None = None) -> None:
        self.image_transform = image_transform

    def __call__(self, raw: dict[str, Any]) -> dict[str, Any]:
        sample = decode_pair(raw)
        if self.image_transform is not None:
            try:
                sample["chosen"] = self.image_transform(sample["chosen"])
                sample["rejected"] = self.image_transform(sample["rejected"])
            except Exception as err:  # noqa: BLE001 - a sample the transform cannot take is a corrupt sample
                raise RecordError(f"image_transform failed: {type(err).__name__}: {err}") from err
        return sample


def collate_pairs(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Lists of prompts, keys and metadata; images stacked when they are equal-shaped tensors."""
    batch: dict[str, Any] = {
        "key": [s["key"] for s in samples],
        "prompt": [s["prompt"] for s in samples],
        "meta": [s["meta"] for s in samples],
        "n_perturbations": torch.tensor([s["n_perturbations"] for s in samples], dtype=torch.long),
        "data_errors": stamp_errors(samples),
    }
    for name in ("chosen", "rejected"):
        images = [s[name] for s in samples]
        same = all(isinstance(i, torch.Tensor) and i.shape == images[0].shape for i in images)
        batch[name] = torch.stack(images) if same else images
    return batch


class CorruptCounter:
    """Per-reader corrupt-sample counts carried by batches, summed in the main process."""

    def __init__(self) -> None:
        self.by_reader: dict[str, dict[int, int]] = {}

    def update(self, stage: str, counts: dict[int, int]) -> None:
        """Keep the highest count seen for each reader of a stage."""
        seen = self.by_reader.setdefault(stage, {})
        for reader, n in counts.items():
            seen[reader] = max(seen.get(reader, 0), n)

    def total(self, stage: str | None = None) -> int:
        """Corrupt samples skipped so far on this rank (one stage or all)."""
        stages = [stage] if stage else list(self.by_reader)
        return sum(sum(self.by_reader.get(s, {}).values()) for s in stages)


class PreferencePairDataModule(L.LightningDataModule):
    """Streams preference pairs from WebDataset shards.

    Args:
        train, val, test: shard specs per split: paths, globs, brace patterns or fsspec URLs.
        batch_size: pairs per training batch on each rank.
        eval_batch_size: pairs per evaluation batch (defaults to batch_size).
        num_workers: DataLoader workers per rank.
        train_samples_per_epoch: global pairs per training epoch (resampled; split evenly over ranks).
        shuffle_buffer: training shuffle buffer (samples).
        seed: seeds shard resampling and shuffling.
        on_error: "skip" corrupt samples (counted, logged) or "raise".
        max_corrupt_fraction: stop with a clear error when a reader finds more than this share of its samples
            corrupt (None: only when nothing in a training epoch decodes).
        allow_shell_urls: accept `pipe:` URLs, which run shell commands.
        image_transform: applied to each PIL image in the workers (the reward backbone sets it).
        collate_fn: replaces `collate_pairs`.
        train_collate_fn: for training batches only (e.g. with extra negatives); default: collate_fn.
    """

    def __init__(self, train: Urls = None, val: Urls = None, test: Urls = None, batch_size: int = 8,
                 eval_batch_size: int | None = None, num_workers: int = 0, train_samples_per_epoch: int = 10000,
                 shuffle_buffer: int = 1000, seed: int = 0, on_error: Literal["skip", "raise"] = "skip",
                 allow_shell_urls: bool = False,
                 image_transform: Callable | None = None, collate_fn: Callable | None = None,
                 train_collate_fn: Callable | None = None, max_corrupt_fraction: float | None = None) -> None:
        super().__init__()
        check_counts(batch_size=batch_size, eval_batch_size=eval_batch_size or batch_size,
                     train_samples_per_epoch=train_samples_per_epoch)
        check_counts(0, num_workers=num_workers, shuffle_buffer=shuffle_buffer)
        check_fraction(max_corrupt_fraction)
        self.max_corrupt_fraction = max_corrupt_fraction
        self.specs = {"train": train, "val": val, "test": test}
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size or batch_size
        self.num_workers, self.train_samples_per_epoch = num_workers, train_samples_per_epoch
        self.shuffle_buffer, self.seed, self.on_error = shuffle_buffer, seed, on_error
        self.allow_shell_urls = allow_shell_urls
        self.image_transform, self.collate_fn = image_transform, collate_fn or collate_pairs
        self.train_collate_fn = train_collate_fn
        self.urls: dict[str, list[str]] = {}
        self.corrupt = CorruptCounter()
        self._train_epoch = 0
        self._train_loader: EpochLoader | None = None

    def connect(self, collate_fn: Callable | None = None, train_collate_fn: Callable | None = None) -> None:
        """Take a module's batch collation (called once from the module's setup): `collate_fn` for every batch,
        `train_collate_fn` for training batches only (None: `collate_fn`)."""
        if collate_fn is not None:
            self.collate_fn = collate_fn
        self.train_collate_fn = train_collate_fn

    def setup(self, stage: str | None = None) -> None:
        """Expand and check the shard specs (a missing shard fails here, naming it)."""
        for split, spec in self.specs.items():
            if split in STAGE_SPLITS.get(stage, SPLITS) and spec is not None and split not in self.urls:
                self.urls[split] = expand_urls(spec, self.allow_shell_urls)

    def _stream(self, split: str) -> ShardStream:
        if split not in self.urls:
            self.setup({"train": "fit", "val": "validate", "test": "test"}[split])
        if split not in self.urls:
            raise ValueError(f"no {split} shards configured: set data.init_args.{split}")
        train = split == "train"
        return ShardStream(self.urls[split], PairDecoder(self.image_transform), train=train,
                           samples_per_epoch=self.train_samples_per_epoch if train else None, seed=self.seed,
                           shuffle_buffer=self.shuffle_buffer if train else 0, on_error=self.on_error,
                           allow_shell_urls=self.allow_shell_urls, max_corrupt_fraction=self.max_corrupt_fraction)

    def _loader(self, split: str) -> EpochLoader:
        train = split == "train"
        loader = EpochLoader(self._stream(split), batch_size=self.batch_size if train else self.eval_batch_size,
                             num_workers=self.num_workers,
                             collate_fn=(self.train_collate_fn or self.collate_fn) if train else self.collate_fn,
                             start_epoch=self._train_epoch if train else 0)
        loader.batches_per_epoch()  # tells the stream its batch size (for resuming mid-epoch)
        return loader

    def train_dataloader(self) -> EpochLoader:
        self._train_loader = self._loader("train")
        return self._train_loader

    def val_dataloader(self) -> EpochLoader | list:
        """Validation pairs, or no loader (validation skipped) when `val` is not set."""
        return self._loader("val") if self.specs["val"] is not None else []

    def test_dataloader(self) -> EpochLoader:
        return self._loader("test")

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        if isinstance(batch, dict) and "data_errors" in batch:
            trainer = self.trainer
            stage = trainer.state.stage.value if trainer is not None and trainer.state.stage else "run"
            self.corrupt.update(stage, batch["data_errors"])
        return batch

    def state_dict(self) -> dict[str, Any]:
        """The next training epoch, so a resumed run draws the same shard sequence."""
        epoch = self._train_loader.next_epoch if self._train_loader is not None else self._train_epoch
        return {"train_epoch": epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._train_epoch = int(state.get("train_epoch", 0))
