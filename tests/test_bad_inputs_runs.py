"""Issue 19, items 4-6: no run that never ends, no run killed by one sample, tar damage counted exactly."""

from __future__ import annotations

import signal
import tarfile
from contextlib import contextmanager

import bad_inputs as corpus
import numpy as np
import pytest
from PIL import Image


class Overdue(BaseException):
    """Raised by `deadline`; a BaseException, so no `except Exception` (or OSError) on the way swallows it."""


@contextmanager
def deadline(seconds: float):
    """Raise Overdue in this (main) thread when the block runs longer than `seconds`."""
    def expire(signum, frame):
        raise Overdue(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _stream(urls, **kwargs):
    from zoo.data.records import decode_pair
    from zoo.data.stream import ShardStream

    return ShardStream([str(u) for u in urls], decode_pair, **kwargs)


# ---- 4. an epoch that decodes nothing ------------------------------------------------------------------------------
def test_zoo_fit_on_all_corrupt_shards_stops_with_a_clear_error(tmp_path, capsys):
    prepared = corpus.fit_all_corrupt(tmp_path)
    with deadline(60), corpus.cli_error(capsys, r"none of the 64 samples.*bad\.tar.*'k0'"):  # it used to loop forever
        prepared.call()


def test_training_epochs_count_decoded_samples_and_max_corrupt_fraction_stops_a_rotten_stream(tmp_path):
    from zoo.data.stream import CorruptDataError

    members = [m for i in range(10) for m in corpus.pair_members(f"k{i}", chosen=b"junk" if i % 2 else None)]
    shard = corpus.write_tar(tmp_path / "half.tar", members)  # every other sample corrupt
    with deadline(30):
        epoch = list(_stream([shard], train=True, samples_per_epoch=12))
    assert len(epoch) == 12 and all(int(s["key"][1:]) % 2 == 0 for s in epoch)
    assert epoch[-1]["__errors__"] >= 11  # the reader read on past the corrupt ones to fill its quota
    with deadline(30), pytest.raises(CorruptDataError, match="max_corrupt_fraction=0.2"):
        list(_stream([shard], train=True, samples_per_epoch=200, max_corrupt_fraction=0.2))
    with pytest.raises(ValueError, match="max_corrupt_fraction"):
        _stream([shard], train=True, samples_per_epoch=4, max_corrupt_fraction=1.5)


def test_prompt_datamodule_honours_max_corrupt_fraction(tmp_path):
    from datamodules import PromptDataModule
    from zoo.data.stream import CorruptDataError

    shard = corpus.prompt_shard(tmp_path / "p.tar", ["a", "b", "../c"])  # one of three refused
    dm = PromptDataModule(val=str(shard), max_corrupt_fraction=0.5)
    dm.setup("validate")
    assert [p["key"] for p in dm.prompts["val"]] == ["a", "b"] and dm.corrupt["val"] == 1
    with pytest.raises(CorruptDataError, match="1 of 3 prompt records"):
        PromptDataModule(val=str(shard), max_corrupt_fraction=0.2).setup("validate")


# ---- 5. one sample that passes decoding must not kill the run -------------------------------------------------------
@pytest.mark.parametrize("case", [corpus.fit_sliver, corpus.fit_surrogate])
def test_zoo_fit_skips_and_counts_a_sample_the_processor_cannot_take(case, tmp_path, caplog):
    prepared = case(tmp_path)
    with deadline(120), caplog.at_level("WARNING"):
        prepared.call()
    assert "skipped a corrupt sample" in caplog.text and ("'sliver'" in caplog.text or "'sur'" in caplog.text)


@pytest.mark.parametrize("case", [corpus.table_sliver, corpus.table_surrogate])
def test_reward_table_skips_and_counts_the_bad_pair(case, tmp_path, capsys):
    case(tmp_path).call()
    printed = capsys.readouterr().out
    assert "3 pairs, 1 skipped" in printed


@pytest.mark.parametrize("case", [corpus.score_sliver, corpus.score_surrogate])
def test_zoo_score_turns_the_bad_item_into_an_error_row(case, tmp_path):
    prepared = case(tmp_path)
    prepared.call()
    rows = {r["id"]: r for r in corpus.rows_of(prepared.out / "scores.jsonl")}
    bad = "sliver" if "sliver" in rows else "sur"
    assert "error" in rows[bad] and all("score" in rows[k] for k in ("good", "good2"))
    assert ("elongated" in rows[bad]["error"]) or ("Unicode" in rows[bad]["error"])


def test_a_batch_the_model_fails_on_is_retried_item_by_item(tmp_path):
    from zoo.reward.scorer import load, run_per_item

    scorer = load(corpus.tiny_scorer(tmp_path / "scorer"))
    good = Image.fromarray(np.full((32, 32, 3), 200, np.uint8))
    sliver = Image.fromarray(np.full((1, 300, 3), 200, np.uint8))  # passed to the model directly: the processor fails
    items = [("a red circle", good), ("a blue square", sliver), ("a green cross", good)]
    with pytest.raises(ValueError):
        scorer.score([p for p, _ in items], [i for _, i in items])
    results = run_per_item(lambda part: scorer.score([p for p, _ in part], [i for _, i in part]), items)
    assert isinstance(results[1], ValueError) and "aspect ratio" in str(results[1])
    alone = scorer.score(["a red circle", "a green cross"], [good, good])
    assert results[0] == pytest.approx(alone[0], abs=1e-5) and results[2] == pytest.approx(alone[1], abs=1e-5)


def test_the_pair_decoder_counts_samples_its_image_transform_refuses(tmp_path):
    from datamodules import PreferencePairDataModule

    def transform(image):
        if image.size != (32, 32):
            raise ValueError("not 32 x 32")
        return image

    shard = corpus.write_tar(tmp_path / "p.tar", corpus.world_pair_members("ok", 0) + corpus.pair_members("small"))
    dm = PreferencePairDataModule(val=str(shard), eval_batch_size=4, image_transform=transform)
    batches = list(dm.val_dataloader())
    assert [k for b in batches for k in b["key"]] == ["ok"] and batches[-1]["data_errors"] == {0: 1}


# ---- 6. tar parsing ------------------------------------------------------------------------------------------------
def _read(path):
    from zoo.data.stream import ErrorLog, iter_tar_samples

    errors = ErrorLog("skip")
    return [s["__key__"] for s in iter_tar_samples(str(path), errors)], errors


@pytest.mark.parametrize("byte", [1, 100, 124, 150, 300])
def test_one_flipped_header_byte_costs_one_sample_and_counts_add_up(tmp_path, byte):
    shard = corpus.write_tar(tmp_path / "p.tar", [m for i in range(8) for m in corpus.pair_members(f"k{i}")])
    with tarfile.open(shard) as tar:
        offsets = [m.offset for m in tar.getmembers()]
    good = shard.read_bytes()
    for member, offset in enumerate(offsets):  # every member header in turn: first, middle and last of a sample
        damaged = bytearray(good)
        damaged[offset + byte] ^= 0x01
        shard.write_bytes(bytes(damaged))
        keys, errors = _read(shard)
        assert len(keys) == 7 and errors.count == 1, (member, keys, errors.examples)
        assert f"k{member // 3}" not in keys and f"byte {offset}" in errors.examples[0]


@pytest.mark.parametrize("case,read", [(corpus.tar_bad_pax, 2), (corpus.tar_pax_zero_length, 1),
                                       (corpus.tar_bad_size_field, 2)])
def test_malformed_tar_fields_are_counted_with_their_offset_not_raised(case, read, tmp_path):
    case(tmp_path)
    keys, errors = _read(next(tmp_path.glob("*.tar")))
    assert len(keys) == read and errors.count == 1 and "tar damaged at byte" in errors.examples[0]


def test_on_error_raise_still_raises_on_tar_damage_naming_shard_and_offset(tmp_path):
    from zoo.data.stream import CorruptSampleError, ErrorLog, iter_tar_samples

    corpus.tar_bad_pax(tmp_path)
    with pytest.raises(CorruptSampleError, match=r"pax\.tar.*byte 3072: malformed pax record"):
        list(iter_tar_samples(str(tmp_path / "pax.tar"), ErrorLog("raise")))
