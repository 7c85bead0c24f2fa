"""Issue 19, items 7-11: the pixels every reader sees, writes that must not lose or hide data, `zoo score` input,
and the smaller mistakes that must name what is wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bad_inputs as corpus
import bad_inputs_more as more
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _sub(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


# ---- 7. one image reader -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case,verdict", [
    (more.jpeg_exif_orientation, "20x40, red on top (upright)"),
    (more.png_16bit, "0 % of the gradient white"),
    (more.png_alpha, "transparent pixel decodes as (255, 255, 255)"),
])
def test_packed_images_read_back_upright_scaled_and_on_white(case, verdict, tmp_path):
    prepared = case(tmp_path)
    prepared.call()
    assert prepared.measure(None, "") == verdict


def test_every_reader_of_image_files_sees_the_same_pixels(tmp_path):
    from zoo.bench.prompts import BenchItem
    from zoo.bench.run import _read_image
    from zoo.data.images import read_image
    from zoo.reward.score_files import _load

    for name, data in (("rot.jpg", more.exif_rotated_jpeg()), ("g16.png", more.gradient_16bit()),
                       ("a.png", more.hidden_colour_rgba())):
        (tmp_path / "item").mkdir(exist_ok=True)
        (tmp_path / "item" / "0.png").write_bytes(data)
        (tmp_path / name).write_bytes(data)
        expected = np.asarray(read_image(data))
        assert np.array_equal(np.asarray(read_image(tmp_path / name)), expected)
        assert np.array_equal(np.asarray(_load({"prompt": "a cat", "image": str(tmp_path / name)})), expected)
        assert np.array_equal(_read_image(tmp_path, BenchItem("item", "a cat", ""), 0), expected)


def test_only_the_image_module_opens_images():
    opened = [str(p.relative_to(ROOT)) for folder in ("zoo", "modules", "datamodules", "callbacks")
              for p in (ROOT / folder).rglob("*.py") if "Image.open(" in p.read_text()]
    assert opened == ["zoo/data/images.py"]


# ---- 8-9. writes ---------------------------------------------------------------------------------------------------
def test_pack_checks_everything_before_it_touches_the_old_shards(tmp_path, capsys):
    prepared = more.pack_overwrite_broken(tmp_path)
    before = {p.name: p.read_bytes() for p in prepared.out.iterdir()}
    with corpus.cli_error(capsys, "not valid JSON"):
        prepared.call()
    assert {p.name: p.read_bytes() for p in prepared.out.iterdir()} == before  # shards and report as they were
    from zoo.data.pack import pack_pairs

    with pytest.raises(ValueError, match="shard_size must be an integer >= 1, got 0"):
        pack_pairs(tmp_path / "ok.jsonl", prepared.out, shard_size=0, overwrite=True, progress=False)
    summary = pack_pairs(tmp_path / "ok.jsonl", prepared.out, overwrite=True, progress=False)
    assert summary["packed"] == 1 and sorted(p.name for p in prepared.out.iterdir()) == [
        "pack_report.json", "train-000000.tar"]  # no staging folder left behind


def test_a_killed_spatial_build_leaves_no_worker_writing(tmp_path):
    prepared = more.spatial_killed(tmp_path)
    assert prepared.call() == "0 workers alive 3 s after the kill, 0 shards written after it"


def test_inspect_warns_without_a_manifest_and_exits_non_zero_on_corruption(tmp_path, capsys):
    more.inspect_no_manifest(_sub(tmp_path, "a")).call()
    assert "warning: no manifest" in capsys.readouterr().out
    with corpus.cli_error(capsys, "1 corrupt samples"):
        more.inspect_corrupt_exit(_sub(tmp_path, "b")).call()
    out = more.small_spatial(_sub(tmp_path, "c"))
    (out / "pairs" / "train-000001.tar").unlink()
    with pytest.raises(SystemExit) as exit_:
        corpus.zoo("data", "inspect", str(out / "pairs" / "train-*.tar"))()
    printed = capsys.readouterr()
    assert exit_.value.code == 1 and "train-000001.tar: missing" in printed.out
    assert [line for line in printed.err.splitlines() if line.startswith("error:")] == [
        "error: inspect: 0 corrupt samples, 1 missing shards (listed above)"]


def test_spatial_rebuilds_a_set_whose_shard_is_gone_or_changed(tmp_path, capsys):
    prepared = more.spatial_deleted_shard(tmp_path)
    original = (prepared.out / "pairs" / "train-000000.tar").read_bytes()
    prepared.call()
    assert "building it again" in capsys.readouterr().out
    assert (prepared.out / "pairs" / "train-000001.tar").is_file()
    with open(prepared.out / "pairs" / "train-000000.tar", "ab") as shard:
        shard.write(b"\0" * 512)
    prepared.call()
    assert (prepared.out / "pairs" / "train-000000.tar").read_bytes() == original
    prepared.call()
    assert "reused" in capsys.readouterr().out.splitlines()[-3]


# ---- 10. zoo score -------------------------------------------------------------------------------------------------
def test_score_repairs_a_cut_off_last_line_and_retries_error_rows(tmp_path):
    prepared = more.score_cut_off_output(_sub(tmp_path, "a"))
    prepared.call()
    rows = corpus.rows_of(prepared.out / "scores.jsonl")
    assert [r["id"] for r in rows] == ["good", "good2"] and rows[0]["score"] == 0.5  # good kept, good2 redone
    prepared = more.score_retry_errors(_sub(tmp_path, "b"))
    assert "error" in {r["id"]: r for r in corpus.rows_of(prepared.out / "scores.jsonl")}["late"]
    prepared.call()
    rows = corpus.rows_of(prepared.out / "scores.jsonl")
    assert sorted(r["id"] for r in rows) == ["good", "good2", "late"] and all("score" in r for r in rows)


@pytest.mark.parametrize("value", [0, -1])
def test_score_refuses_a_batch_size_below_one(value, tmp_path, capsys):
    prepared = more.score_batch_size(value)(tmp_path)
    with corpus.cli_error(capsys, f"batch_size must be an integer >= 1, got {value}", code=2):
        prepared.call()
    assert not (prepared.out / "scores.jsonl").exists()


def test_score_input_lines_of_any_shape_become_error_rows(tmp_path):
    from zoo.reward.score_files import score

    lines = ["[1, 2]", '{"id": "five", "prompt": "a cat", "image": 5}',
             '{"id": "b", "prompt": "a \udcff", "image": "a.png"}',
             '{"id": "good", "prompt": "a repeated id", "image": "a.png"}', "{oops"]
    scorer, inp = corpus.tiny_scorer(tmp_path / "scorer"), corpus.score_input(tmp_path, lines)
    counts = score(inp, scorer=scorer, out=tmp_path / "out.jsonl")
    rows = corpus.rows_of(tmp_path / "out.jsonl")
    assert counts["scored"] == 2 and counts["errors"] == 5 and len({r["id"] for r in rows}) == 7
    errors = " | ".join(r["error"] for r in rows if "error" in r)
    for words in ("in.jsonl:3: a line must be a JSON object", "'image' must be a path, got 5", "in.jsonl:5: not UTF-8",
                  "duplicate id 'good'", "in.jsonl:7: bad JSON"):
        assert words in errors


def test_score_folder_ids_stay_unique_when_two_images_share_a_stem(tmp_path):
    prepared = more.score_same_stem(tmp_path)
    prepared.call()
    assert prepared.measure(None, "") == "ids a.jpg, a.png"


# ---- 11. smaller ---------------------------------------------------------------------------------------------------
def test_inspect_counts_a_pair_without_its_chosen_image_as_a_corrupt_pair(tmp_path):
    from zoo.data.inspect import inspect_shards

    more.inspect_pair_without_chosen(tmp_path)
    summary = inspect_shards(str(tmp_path / "pairs.tar"), progress=False)
    assert summary["samples"] == 1 and summary["corrupt"] == 1 and "missing key 'chosen.png'" in summary["errors"][0]


def test_pack_names_the_missing_hpsv3_key_and_the_line_that_is_not_utf8(tmp_path):
    prepared = more.pack_hpsv3_missing_path2(_sub(tmp_path, "a"))
    prepared.call()
    assert "lacks 'path2'" in prepared.measure(None, "")
    prepared = more.pack_non_utf8(_sub(tmp_path, "b"))
    prepared.call()
    report = json.loads((prepared.out / "pack_report.json").read_text())
    assert report["packed"] == 1 and report["errors"][0]["record"].endswith("in.jsonl:2")
    assert "not UTF-8" in report["errors"][0]["reason"]


def test_reward_table_shows_the_pair_and_skipped_counts(tmp_path, capsys):
    more.table_counts(tmp_path).call()
    assert re.search(r"scorer: 2 pairs, 1 skipped", capsys.readouterr().out)


def test_config_mistakes_fail_early_naming_their_key(tmp_path, capsys):
    from datamodules import PreferencePairDataModule, PromptDataModule
    from zoo.reward.model import RewardModel
    from zoo.reward.parts import TrainableParts, apply_parts
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL

    model = RewardModel(QwenVLBackbone(tiny=TinyQwenVL(**corpus.TINY_SCORER)))
    with pytest.raises(ValueError, match=r"^model\.init_args\.parts\.lora_targets='no_such_module' matches no module"):
        apply_parts(model, TrainableParts(mode="lora", lora_targets="no_such_module"))
    for module, key in ((PreferencePairDataModule, "batch_size"), (PreferencePairDataModule, "num_workers"),
                        (PromptDataModule, "steps_per_epoch")):
        with pytest.raises(ValueError, match=rf"data\.init_args\.{key} must be an integer"):
            module(**{key: -4})
    with corpus.cli_error(capsys, r"^model\.init_args\.parts\.lora_targets="):
        more.fit_lora_targets(tmp_path).call()


def test_s3_without_s3fs_names_the_extra_to_install(tmp_path, capsys):
    with corpus.cli_error(capsys, r"pip install 'zoo\[s3\]'"):
        more.s3_without_s3fs(tmp_path).call()
