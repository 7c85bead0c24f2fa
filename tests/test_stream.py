"""Streaming shards: exact-once evaluation, fixed-length training, corrupt samples, URL rules."""

from __future__ import annotations

import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from datamodules import PreferencePairDataModule, PromptDataModule
from zoo.data.records import decode_pair
from zoo.data.stream import CorruptSampleError, EpochLoader, ShardStream
from zoo.data.urls import ShellUrlRefused, expand_urls


def _keys(loader) -> list[str]:
    return [k for batch in loader for k in batch["key"]]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_validation_visits_every_sample_once(spatial_set, num_workers):
    for pattern, expected in (("val-*.tar", 40), ("val-000000.tar", 10)):  # 4 shards, then 1 shard < readers
        dm = PreferencePairDataModule(val=str(spatial_set / "pairs" / pattern), eval_batch_size=3,
                                      num_workers=num_workers)
        keys = _keys(dm.val_dataloader())
        assert len(keys) == expected and len(set(keys)) == expected


def test_training_stream_has_fixed_length_and_is_seeded_per_epoch(spatial_set):
    dm = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=4, num_workers=2,
                                  train_samples_per_epoch=26, shuffle_buffer=5, seed=1)
    loader = dm.train_dataloader()
    first, second = _keys(loader), _keys(loader)
    assert len(first) == 26 and len(second) == 26 and first != second
    again = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=4, num_workers=2,
                                     train_samples_per_epoch=26, shuffle_buffer=5, seed=1)
    assert _keys(again.train_dataloader()) == first
    resumed = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=4, num_workers=2,
                                       train_samples_per_epoch=26, shuffle_buffer=5, seed=1)
    resumed.load_state_dict(dm.state_dict())  # after two epochs
    third = _keys(loader)
    assert _keys(resumed.train_dataloader()) == third


def test_image_transform_is_applied_and_tensors_are_stacked(spatial_set):
    def to_tensor(image):
        return torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255

    dm = PreferencePairDataModule(val=str(spatial_set / "pairs" / "val-*.tar"), eval_batch_size=5,
                                  image_transform=to_tensor)
    batch = next(iter(dm.val_dataloader()))
    assert batch["chosen"].shape == (5, 3, 48, 48) and batch["rejected"].dtype == torch.float32
    assert batch["n_perturbations"].tolist() == [m["n_perturbations"] for m in batch["meta"]]


def _tar(path: Path, samples: list[dict[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for sample in samples:
            for name, data in sample.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def _good(key: str) -> dict[str, bytes]:
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(buf, format="PNG")
    png = buf.getvalue()
    return {f"{key}.chosen.png": png, f"{key}.rejected.png": png,
            f"{key}.json": json.dumps({"prompt": f"prompt {key}", "n_perturbations": 1}).encode()}


@pytest.fixture()
def corrupt_set(tmp_path) -> Path:
    bad_png = {**_good("k2"), "k2.rejected.png": b"\x89PNG\r\n\x1a\ngarbage"}
    missing = {k: v for k, v in _good("k3").items() if not k.endswith("rejected.png")}
    bad_json = {**_good("k4"), "k4.json": b"{oops"}
    _tar(tmp_path / "a.tar", [_good("k1"), bad_png, missing, bad_json, _good("k5")])
    _tar(tmp_path / "b.tar", [_good(f"t{i}") for i in range(6)])
    data = (tmp_path / "b.tar").read_bytes()
    (tmp_path / "b.tar").write_bytes(data[: len(data) // 2 + 100])  # truncated mid-way
    return tmp_path


def test_corrupt_samples_are_skipped_and_counted_with_shard_and_key(corrupt_set, caplog):
    urls = [str(corrupt_set / "a.tar"), str(corrupt_set / "b.tar")]
    stream = ShardStream(urls, decode_pair, train=False)
    with caplog.at_level("WARNING"):
        samples = list(stream)
    keys = [s["key"] for s in samples]
    assert keys[:2] == ["k1", "k5"] and all(k.startswith("t") for k in keys[2:]) and 0 < len(keys) - 2 < 6
    assert samples[-1]["__errors__"] == 4
    text = caplog.text
    assert "a.tar" in text and "'k2'" in text and "bad image in 'rejected.png'" in text
    assert "'k3'" in text and "missing key 'rejected.png'" in text
    assert "'k4'" in text and "bad JSON" in text
    assert "b.tar" in text and "truncated" in text


def test_corrupt_counts_reach_the_datamodule(corrupt_set):
    dm = PreferencePairDataModule(val=str(corrupt_set / "a.tar"), eval_batch_size=2)
    for batch in dm.val_dataloader():
        dm.corrupt.update("validate", batch["data_errors"])
    assert dm.corrupt.total("validate") == 3


@pytest.mark.parametrize("shard,match", [("a.tar", "'k2'"), ("b.tar", "truncated")])
def test_on_error_raise_names_shard_and_key(corrupt_set, shard, match):
    stream = ShardStream([str(corrupt_set / shard)], decode_pair, train=False, on_error="raise")
    with pytest.raises(CorruptSampleError, match=match) as err:
        list(stream)
    assert shard in str(err.value)


def test_missing_shards_and_empty_globs_fail_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope-000000.tar"):
        expand_urls(str(tmp_path / "nope-000000.tar"))
    with pytest.raises(FileNotFoundError, match=r"no shards match .*\*"):
        PreferencePairDataModule(val=str(tmp_path / "*.tar")).setup("validate")
    with pytest.raises(FileNotFoundError, match="x-000001.tar"):
        (tmp_path / "x-000000.tar").write_bytes(b"")
        expand_urls(str(tmp_path / "x-{000000..000001}.tar"))


def test_pipe_urls_need_an_explicit_opt_in(corrupt_set):
    url = f"pipe:cat {corrupt_set / 'a.tar'}"
    with pytest.raises(ShellUrlRefused, match="allow_shell_urls"):
        expand_urls(url)
    with pytest.raises(ShellUrlRefused):
        PreferencePairDataModule(val=url).setup()
    dm = PreferencePairDataModule(val=url, allow_shell_urls=True, eval_batch_size=8)
    assert _keys(dm.val_dataloader()) == ["k1", "k5"]


def test_prompt_groups_repeat_each_prompt_and_differ_per_step(spatial_set):
    dm = PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"), batch_size=8, group_size=4,
                          steps_per_epoch=3)
    batches = list(dm.train_dataloader())
    assert len(batches) == 3
    for batch in batches:
        groups = Counter(batch["group"].tolist())
        assert sorted(groups.values()) == [4, 4]
        for g in groups:
            prompts = {p for p, gg in zip(batch["prompt"], batch["group"].tolist()) if gg == g}
            assert len(prompts) == 1
    assert batches[0]["prompt"] != batches[1]["prompt"]
    val = PromptDataModule(val=str(spatial_set / "prompts" / "val-*.tar"), eval_batch_size=6)
    keys = _keys(val.val_dataloader())
    assert len(keys) == 20 == len(set(keys))


def test_epoch_loader_advances_the_stream_epoch(spatial_set):
    stream = ShardStream(expand_urls(str(spatial_set / "pairs" / "train-*.tar")), decode_pair, train=True,
                         samples_per_epoch=4)
    loader = EpochLoader(stream, batch_size=2, collate_fn=lambda s: s, start_epoch=5)
    list(loader)
    assert stream.epoch == 5 and loader.next_epoch == 6


def _archive(members: list[tuple[str, bytes]], fmt=tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1.5  # a float mtime makes PAX headers
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_tar_reader_handles_pax_and_long_names_and_reports_every_cut(tmp_path, caplog):
    from zoo.data.stream import ErrorLog, iter_tar_samples
    long_dir = "d" * 120
    members = [(f"{long_dir}/k0.json", b"{}"), (f"{long_dir}/k0.txt", b"x" * 700), ("k1.json", b"[]")]
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        data = _archive(members, fmt)
        (tmp_path / "t.tar").write_bytes(data)
        samples = list(iter_tar_samples(str(tmp_path / "t.tar"), ErrorLog("raise")))
        assert [s["__key__"] for s in samples] == [f"{long_dir}/k0", "k1"] and samples[0]["txt"] == b"x" * 700
    content = len(data.rstrip(b"\0")) // 512 * 512 + 512  # through the last member's padding
    caplog.set_level("ERROR")
    for cut in list(range(0, content, 97)) + [content]:
        (tmp_path / "cut.tar").write_bytes(data[:cut])
        errors = ErrorLog("skip")
        list(iter_tar_samples(str(tmp_path / "cut.tar"), errors))
        assert errors.count == 1, cut
    flipped = bytearray(data)
    flipped[100] ^= 0xFF  # the mode field of the first header
    (tmp_path / "bad.tar").write_bytes(bytes(flipped))
    with pytest.raises(CorruptSampleError, match="checksum"):
        list(iter_tar_samples(str(tmp_path / "bad.tar"), ErrorLog("raise")))


def test_fsspec_urls_stream_like_local_paths(spatial_set):
    import fsspec
    fs = fsspec.filesystem("memory")
    for path in sorted((spatial_set / "pairs").glob("val-*.tar")):
        fs.pipe(f"/shards/{path.name}", path.read_bytes())
    dm = PreferencePairDataModule(val="memory://shards/val-*.tar", eval_batch_size=8)
    keys = _keys(dm.val_dataloader())
    assert len(keys) == 40 == len(set(keys))
    braces = PreferencePairDataModule(val="memory://shards/val-{000000..000001}.tar", eval_batch_size=8)
    assert len(_keys(braces.val_dataloader())) == 20


@pytest.mark.parametrize("num_workers", [0, 2])
def test_training_loader_resumes_mid_epoch_at_the_same_batch(spatial_set, num_workers):
    def module():
        return PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=3,
                                        num_workers=num_workers, train_samples_per_epoch=24, shuffle_buffer=4, seed=2)

    loader = module().train_dataloader()
    full = [batch["key"] for batch in loader]
    assert loader.batches_per_epoch() == len(full)
    interrupted = module().train_dataloader()
    seen = []
    for batch in interrupted:
        seen.append(batch["key"])
        if len(seen) == 3:
            state = interrupted.state_dict()
            break
    resumed = module().train_dataloader()
    resumed.load_state_dict(state)
    assert seen + [batch["key"] for batch in resumed] == full
    ended = module().train_dataloader()
    ended.load_state_dict({"epoch": 0, "served": len(full)})  # saved at the end of epoch 0
    assert [batch["key"] for batch in ended] != full and ended.state_dict()["epoch"] == 1
