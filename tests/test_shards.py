"""Shard sets: determinism of `zoo data spatial`, the pair rules on stored pairs, packing and inspection."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from zoo.data.inspect import inspect_shards
from zoo.data.pack import pack_pairs
from zoo.data.spatial import SplitSizes, build_spatial
from zoo.world.pairs import PairSpec


def test_same_arguments_give_byte_identical_shards(tmp_path):
    kwargs = dict(pairs=SplitSizes(30, 10, 0), prompts=SplitSizes(10, 0, 5), spec=PairSpec(size=40), seed=9,
                  shard_size=8, progress=False)
    build_spatial(tmp_path / "a", workers=1, **kwargs)
    build_spatial(tmp_path / "b", workers=2, **kwargs)
    build_spatial(tmp_path / "c", workers=1, **{**kwargs, "seed": 10})
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.tar"))
    assert len(files) == 4 + 2 + 2 + 1
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()


def test_rebuild_reuses_a_finished_set_and_refuses_other_arguments(tmp_path):
    kwargs = dict(prompts=SplitSizes(), spec=PairSpec(size=40), shard_size=8, workers=1, progress=False)
    first = build_spatial(tmp_path, pairs=SplitSizes(8, 0, 0), **kwargs)
    again = build_spatial(tmp_path, pairs=SplitSizes(8, 0, 0), **kwargs)
    assert not first["reused"] and again["reused"]
    try:
        build_spatial(tmp_path, pairs=SplitSizes(9, 0, 0), **kwargs)
    except FileExistsError as err:
        assert "overwrite" in str(err)
    else:
        raise AssertionError("a different build into the same folder must be refused")


def test_stored_pairs_satisfy_the_pair_rules_from_their_pixels(spatial_set):
    summary = inspect_shards(str(spatial_set / "pairs" / "*.tar"), verify_world=True, progress=False)
    assert summary["samples"] == 200 and summary["corrupt"] == 0
    counts = summary["stats"]["n_perturbations"]
    assert counts[1] > 40 and counts.get(2, 0) + counts.get(3, 0) > 40
    prompts = inspect_shards(str(spatial_set / "prompts" / "*.tar"), progress=False)
    assert prompts["samples"] == 100
    assert set(prompts["stats"]["tag"]) <= {"relations_1", "relations_2", "relations_3"}


def _png(path: Path, colour=(200, 30, 30)) -> str:
    Image.fromarray(np.full((16, 16, 3), colour, np.uint8)).save(path)
    return path.name


def test_pack_validates_every_record_and_reports_the_bad_ones(tmp_path):
    good_a, good_b = _png(tmp_path / "a.png"), _png(tmp_path / "b.png", (0, 0, 200))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    lines = [
        json.dumps({"prompt": "a red square left of a blue one", "chosen": good_a, "rejected": good_b, "n_perturbations": 1}),
        "{not json",
        json.dumps({"prompt": "no rejected", "chosen": good_a}),
        json.dumps({"prompt": "missing file", "chosen": good_a, "rejected": "nope.png"}),
        json.dumps({"prompt": "bad png", "chosen": good_a, "rejected": "broken.png"}),
        json.dumps({"prompt": "", "chosen": good_a, "rejected": good_b}),
        json.dumps({"prompt": "declined by a reviewer", "chosen": good_a, "rejected": good_b, "accept": False}),
    ]
    (tmp_path / "pairs.jsonl").write_text("\n".join(lines) + "\n")
    summary = pack_pairs(tmp_path / "pairs.jsonl", tmp_path / "out", shard_size=10, progress=False)
    assert summary["records"] == 7 and summary["packed"] == 1 and summary["declined_by_review"] == 1
    reasons = {e["record"].rsplit(":", 1)[1]: e["reason"] for e in summary["errors"]}
    assert set(reasons) == {"2", "3", "4", "5", "6"}
    assert "bad JSON" in reasons["2"] and "'rejected'" in reasons["3"]
    assert "not found" in reasons["4"] and "cannot decode" in reasons["5"] and "prompt" in reasons["6"]
    report = json.loads((tmp_path / "out" / "pack_report.json").read_text())
    assert report["bad"] == 5
    stored = inspect_shards(str(tmp_path / "out" / "*.tar"), kind="pairs", progress=False)
    assert stored["samples"] == 1 and stored["examples"][0]["prompt"].startswith("a red square")


def test_pack_reads_hpsv3_lists_with_path1_preferred(tmp_path):
    chosen, rejected = _png(tmp_path / "good.png", (10, 200, 10)), _png(tmp_path / "bad.png", (200, 10, 10))
    (tmp_path / "train.json").write_text(json.dumps([{"prompt": "a cat", "path1": chosen, "path2": rejected,
                                                      "confidence": 0.9}]))
    summary = pack_pairs(tmp_path / "train.json", tmp_path / "out", progress=False)
    assert summary["packed"] == 1 and summary["bad"] == 0
    import tarfile
    with tarfile.open(tmp_path / "out" / "train-000000.tar") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    chosen_png = next(v for k, v in members.items() if k.endswith("chosen.png"))
    assert Image.open(io.BytesIO(chosen_png)).getpixel((0, 0)) == (10, 200, 10)
    meta = json.loads(next(v for k, v in members.items() if k.endswith(".json")))
    assert meta["confidence"] == 0.9 and meta["source_format"] == "hpsv3"
