"""`zoo data construct`: pairs from a policy's own images, judged from pixels, written resumably."""

from __future__ import annotations

import json

import numpy as np
import yaml

from zoo.bench.spatialbench import verify_images
from zoo.construct.run import construct
from zoo.data.records import decode_pair
from zoo.data.stream import ErrorLog, iter_tar_samples

POLICY = {"class_path": "zoo.policy.flux.FluxPolicy",
          "init_args": {"tiny": {"image_size": 32, "pixel_factor": 2, "layers": 1, "single_layers": 1, "heads": 2,
                                 "head_dim": 16, "axes_dims_rope": [4, 6, 6], "text_dim": 32}, "guidance": 1.0}}


def test_construct_keeps_judged_best_over_worst_pairs_and_resumes(spatial_set, tmp_path):
    experiment = tmp_path / "policy.yaml"
    experiment.write_text(yaml.safe_dump({"model": {"init_args": {"policy": POLICY}}}))
    out = tmp_path / "generated"
    prompts = str(spatial_set / "prompts" / "train-*.tar")
    summary = construct(prompts, out=out, experiment=str(experiment), rule="ranked", count=6, images_per_prompt=4,
                        steps=2,
                        margin=0.0, objects_weight=1.0, prompts_per_shard=3)
    shards = sorted(out.glob("train-*.tar"))
    assert len(shards) == 2 and summary["pairs"] == 6 and summary["flat_prompts"] == 0
    pairs = [decode_pair(raw) for s in shards for raw in iter_tar_samples(str(s), ErrorLog("raise", "test"))]
    assert len(pairs) == summary["pairs"] > 0
    for pair in pairs:  # re-judge the stored images: the chosen one is better by the margin
        scene = {k: pair["meta"][k] for k in ("objects", "relations")}
        arrays = [np.array(pair[side].convert("RGB")) for side in ("chosen", "rejected")]
        chosen, rejected = verify_images(arrays, [scene, scene])
        assert chosen == pair["meta"]["chosen_verdict"] and rejected == pair["meta"]["rejected_verdict"]
        assert chosen["score"] + chosen["found"] >= rejected["score"] + rejected["found"]
        assert pair["meta"]["prompt"] == pair["prompt"] and pair["chosen"].size == (32, 32)
    shards[1].unlink()  # an interrupted run: the finished shard is kept, the missing one is made again
    again = construct(prompts, out=out, experiment=str(experiment), rule="ranked", count=6, images_per_prompt=4,
                      steps=2,
                      margin=0.0, objects_weight=1.0, prompts_per_shard=3)
    assert again["shards_reused"] == 1 and again["pairs"] == summary["pairs"]
    written = json.loads((out / "construct_summary.json").read_text())
    assert written["pairs"] == summary["pairs"] and written["prefer"] == "sure"  # how perturbations were chosen
    # a margin no pair of these (untrained, near-blank) images reaches: every prompt is counted as flat
    strict = construct(prompts, out=tmp_path / "strict", experiment=str(experiment), rule="ranked", count=6,
                       images_per_prompt=4,
                       steps=2, margin=10.0, prompts_per_shard=3)
    assert strict["pairs"] == 0 and strict["flat_prompts"] == 6
