"""benchmarks/group_diversity.py: per relation, the groups where it holds always, never or sometimes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
import yaml

from zoo.data.records import decode_pair
from zoo.data.stream import ErrorLog, iter_tar_samples
from zoo.policy.flux import FluxPolicy, TinyFlux
from zoo.world import Scene, verify_batch

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("group_diversity", ROOT / "benchmarks" / "group_diversity.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)

TINY = {"image_size": 16, "pixel_factor": 2, "layers": 1, "single_layers": 1, "heads": 2, "head_dim": 16,
        "axes_dims_rope": [4, 6, 6], "text_dim": 32, "max_sequence_length": 40}


def test_a_relation_that_holds_in_some_rendered_images_of_a_group_and_not_in_others_is_mixed(spatial_set):
    shard = sorted((spatial_set / "pairs").glob("val-*.tar"))[0]
    pairs = [decode_pair(raw) for raw in iter_tar_samples(str(shard), ErrorLog("raise", "test"))]
    checked = mixed = 0
    for pair in pairs:
        scene = Scene.from_json(pair["meta"])
        images = [np.array(pair[side].convert("RGB")) for side in ("chosen", "chosen", "rejected")]
        verdicts = verify_batch(images, [scene] * 3)
        chosen, rejected = verdicts[0], verdicts[2]
        if not all(o.found for o in chosen.objects + rejected.objects):
            continue
        expected = ["right_only" if r else "mixed" for r in rejected.relations]  # the chosen render holds them all
        assert all(chosen.relations) and bench.relation_outcomes(verdicts, scene) == expected
        assert bench.relation_outcomes(verdicts[2:], scene) == ["right_only" if r else "wrong_only"
                                                                for r in rejected.relations]
        checked, mixed = checked + 1, mixed + expected.count("mixed")
    assert checked >= 5 and mixed >= 1


def test_the_script_writes_one_row_per_noise_level_from_a_saved_policy(spatial_set, tmp_path):
    torch.manual_seed(0)
    FluxPolicy(tiny=TinyFlux(**{**TINY, "axes_dims_rope": tuple(TINY["axes_dims_rope"])}), guidance=1.0).save(
        tmp_path / "policy")
    experiment = tmp_path / "policy.yaml"
    experiment.write_text(yaml.safe_dump({"model": {"init_args": {"policy": {
        "class_path": "zoo.policy.flux.FluxPolicy", "init_args": {"tiny": TINY, "guidance": 1.0}}}}}))
    common = ["--experiment", str(experiment), "--weights", str(tmp_path / "policy"), "--count", "4", "--group", "3",
              "--steps", "2", "--prompts", str(spatial_set / "prompts" / "val-*.tar")]
    own = bench.main(common + ["--noise_levels", "0", "0.7", "--out", str(tmp_path / "d.json")])
    assert json.loads((tmp_path / "d.json").read_text())["rows"].keys() == own["rows"].keys() == {"0.0", "0.7"}
    assert own["prompts"] == 4 and own["group"] == 3 and not own["shared_noise"]
    for row in own["rows"].values():  # a relation is counted at most once a prompt, its found pairs once an image
        assert row["right_only"] + row["wrong_only"] + row["mixed"] <= row["pairs_found"] <= 3 * 3 * 4
        assert 0.0 <= row["placement"] <= 1.0 and 0.0 <= row["objects_found"] <= 1.0
