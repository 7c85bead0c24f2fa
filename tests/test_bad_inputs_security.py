"""Issue 19, security (items 1-3): nothing written outside OUT, no code run from a data folder, no unbounded read.

Each test runs a case of the corpus in `bad_inputs.py` through its real entry point (mostly the `zoo` command line).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import bad_inputs as corpus
import pytest


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _inside(root: Path, folder: Path) -> bool:
    return all(p.resolve().is_relative_to(root.resolve()) for p in _files_under(folder))


# ---- 1. path traversal ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [corpus.bench_key_dotdot, corpus.bench_key_absolute])
def test_bench_writes_only_inside_out_and_counts_climbing_keys_as_corrupt(case, tmp_path):
    prepared = case(tmp_path)
    prepared.call()
    assert not any(p.exists() for p in prepared.outside)
    rows = [json.loads(x) for x in (prepared.out / "samples.jsonl").read_text().splitlines()]
    assert [r["item"] for r in rows] == ["good"]  # the climbing key was a corrupt sample, the good one was judged
    assert (prepared.out / "images" / "good" / "0.png").is_file() and _inside(prepared.out, prepared.out)


def test_construct_writes_only_inside_out(tmp_path):
    prepared = corpus.construct_key_dotdot(tmp_path)
    prepared.call()
    assert not any(p.exists() for p in prepared.outside)
    assert _inside(prepared.out, prepared.out)
    summary = json.loads((prepared.out / "construct_summary.json").read_text())
    assert summary["prompts"] == 0 and summary["pairs"] == 0  # its only prompt had a key that climbs out


def test_pack_refuses_a_split_that_is_a_path_before_writing_anything(tmp_path, capsys):
    prepared = corpus.pack_split_dotdot(tmp_path)
    with corpus.cli_error(capsys, r"split '\.\./\.\./x'"):
        prepared.call()
    assert not any(p.exists() for p in prepared.outside) and not prepared.out.exists()


def test_backslash_and_drive_letter_keys_are_counted_corrupt_with_shard_and_key(tmp_path):
    from zoo.data.inspect import inspect_shards

    corpus.shard_key_backslash_drive(tmp_path)
    summary = inspect_shards(str(tmp_path / "pairs.tar"), progress=False)
    assert summary["samples"] == 1 and summary["corrupt"] == 3
    assert any("'C:/x/p'" in e and "drive letter" in e and "pairs.tar" in e for e in summary["errors"])


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/x", "a\\b", "C:x", "c:/x", "a//b", "a/", ".", "",
                                  "a\x00b", "a\udcffb"])
def test_safe_relpath_refuses_names_that_are_not_plain_relative_paths(name):
    from zoo.data.paths import UnsafePathError, safe_relpath

    with pytest.raises(UnsafePathError):
        safe_relpath(name)


def test_safe_join_follows_symlinks_and_keeps_plain_keys(tmp_path):
    from zoo.data.paths import UnsafePathError, safe_join

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    joined = safe_join(tmp_path / "out", "images", "sub/key", "0.png")
    assert joined == tmp_path / "out" / "images" / "sub" / "key" / "0.png"
    with pytest.raises(UnsafePathError, match="outside"):
        safe_join(tmp_path / "out", "link", "escape.png")


# ---- 2. code and settings from a folder ----------------------------------------------------------------------------
@pytest.fixture()
def modules_cache(tmp_path, monkeypatch):
    """Where transformers would copy remote code: a temporary folder, never the user's cache."""
    import transformers.dynamic_module_utils as dynamic

    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
    return tmp_path / "hf_modules"


def test_a_scorer_folder_cannot_switch_on_remote_code(tmp_path, modules_cache, capsys):
    prepared = corpus.scorer_remote_code(tmp_path)
    with corpus.cli_error(capsys, r"scorer\.json.*unknown key 'trust_remote_code'"):
        prepared.call()
    assert not prepared.marker.exists()
    meta = json.loads((tmp_path / "scorer" / "scorer.json").read_text())  # without the key: the auto_map stays unused
    del meta["backbone"]["trust_remote_code"]
    (tmp_path / "scorer" / "scorer.json").write_text(json.dumps(meta))
    prepared.call()
    assert not prepared.marker.exists() and not modules_cache.exists()
    rows = corpus.rows_of(prepared.out / "scores.jsonl")
    assert [r["id"] for r in rows] == ["good", "good2"] and all("score" in r for r in rows)


def test_scorer_settings_are_checked_for_type_and_range(tmp_path, capsys):
    prepared = corpus.scorer_bad_setting(tmp_path)
    with corpus.cli_error(capsys, r"scorer\.json.*'max_prompt_tokens' must be an integer in \[1"):
        prepared.call()
    from zoo.reward.scorer import load

    meta = json.loads((tmp_path / "scorer" / "scorer.json").read_text())
    for key, value in (("head", "quadratic"), ("weights", "pickle"), ("backbone", "QwenVLBackbone")):
        (tmp_path / "scorer" / "scorer.json").write_text(json.dumps({**meta, key: value}))
        with pytest.raises(ValueError, match=f"'{key}' must be"):
            load(tmp_path / "scorer")


def test_a_policy_export_must_be_the_architecture_the_experiment_builds(tmp_path, capsys):
    prepared = corpus.policy_export_config(tmp_path)
    with corpus.cli_error(capsys, r"transformer/config\.json: 'num_layers' is 3"):
        prepared.call()
    config_path = tmp_path / "weights" / "transformer" / "config.json"
    config = json.loads(config_path.read_text())
    config["num_layers"] = 1
    config_path.write_text(json.dumps(config))
    with corpus.cli_error(capsys, "unknown key 'auto_map'"):
        prepared.call()
    from zoo.policy.io import build_policy, load_weights

    lora = tmp_path / "lora_only_bin" / "lora"
    lora.mkdir(parents=True)
    (lora / "pytorch_lora_weights.bin").write_bytes(b"not read")
    with pytest.raises(ValueError, match="safetensors only"):
        load_weights(build_policy(tmp_path / "sft.yaml"), tmp_path / "lora_only_bin")


def test_construct_stats_read_back_are_validated(tmp_path, capsys):
    prepared = corpus.construct_stats_bad(tmp_path)
    with corpus.cli_error(capsys, r"train-000000\.json: 'pairs' must be an integer"):
        prepared.call()


# ---- 3. unbounded reads -------------------------------------------------------------------------------------------
def test_a_member_larger_than_its_shard_is_a_counted_cut_not_an_allocation(tmp_path):
    from zoo.data.inspect import inspect_shards

    corpus.tar_huge_member(tmp_path)
    summary = inspect_shards(str(tmp_path / "huge.tar"), progress=False)
    assert summary["samples"] == 1 and summary["corrupt"] == 1
    assert "declares 1125899906842624 bytes" in summary["errors"][0] and "'k1'" in summary["errors"][0]


def test_images_over_the_pixel_limit_are_refused_from_their_header(tmp_path, monkeypatch):
    from zoo.data.inspect import inspect_shards

    corpus.png_over_pixel_limit(tmp_path)
    started = time.perf_counter()
    summary = inspect_shards(str(tmp_path / "pairs.tar"), progress=False)
    assert time.perf_counter() - started < 5  # decoding 144 Mpx took 53 s
    assert summary["samples"] == 1 and summary["corrupt"] == 1 and "144000000 pixels" in summary["errors"][0]
    monkeypatch.setenv("ZOO_MAX_IMAGE_PIXELS", "32")  # the limit is the user's: 8x8 images are now too large
    assert inspect_shards(str(tmp_path / "pairs.tar"), progress=False)["samples"] == 0


def test_an_http_source_that_never_answers_times_out(tmp_path, monkeypatch):
    from zoo.data.inspect import inspect_shards

    server, port = corpus.silent_server()
    monkeypatch.setenv("ZOO_REMOTE_TIMEOUT", "1")
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(
        inspect_shards(f"http://127.0.0.1:{port}/pairs.tar", progress=False)), daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(timeout=30)
    server.close()
    assert not worker.is_alive(), "still blocked on the silent server after 30 s"
    assert time.perf_counter() - started < 15
    assert result["corrupt"] == 1 and "Timeout" in result["errors"][0]


def test_remote_timeout_comes_from_the_environment(monkeypatch):
    from zoo.data.urls import storage_options

    monkeypatch.setenv("ZOO_REMOTE_TIMEOUT", "7.5")
    assert storage_options("http://host/x.tar")["client_kwargs"]["timeout"].sock_read == 7.5
    assert storage_options("s3://bucket/x.tar")["config_kwargs"]["read_timeout"] == 7.5
    monkeypatch.setenv("ZOO_REMOTE_TIMEOUT", "0")
    with pytest.raises(ValueError, match="ZOO_REMOTE_TIMEOUT"):
        storage_options("http://host/x.tar")


# ---- beyond the list: the same rules on neighbouring inputs ------------------------------------------------
def test_a_fifo_among_the_shards_is_counted_not_waited_on(tmp_path):
    import bad_inputs_more as more

    from zoo.data.inspect import inspect_shards

    more.shard_is_fifo(tmp_path)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(inspect_shards(str(tmp_path / "pairs-*.tar"),
                                                                          progress=False)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # release the blocked open so the thread can end
        with open(tmp_path / "pairs-000001.tar", "wb"):
            pass
    assert not worker.is_alive() and result["samples"] == 1 and "not a regular file" in result["errors"][0]


def test_json_nested_too_deep_is_a_corrupt_record(tmp_path):
    import bad_inputs_more as more

    from zoo.data.inspect import inspect_shards

    more.json_nested_deep(tmp_path)
    summary = inspect_shards(str(tmp_path / "pairs.tar"), progress=False)
    assert summary["samples"] == 1 and summary["corrupt"] == 1 and "nested too deeply" in summary["errors"][0]


def test_a_key_too_long_for_a_file_name_is_a_corrupt_sample(tmp_path):
    import bad_inputs_more as more

    prepared = more.key_too_long(tmp_path)
    prepared.call()
    assert [json.loads(x)["item"] for x in (prepared.out / "samples.jsonl").read_text().splitlines()] == ["good"]


def test_a_scorer_folder_cannot_blow_images_up_through_its_processor(tmp_path, capsys):
    import bad_inputs_more as more

    prepared = more.scorer_processor_size(tmp_path)
    with corpus.cli_error(capsys, r"image_processor: 'size\.(shortest|longest)_edge' must be a number in \[1"):
        prepared.call()
