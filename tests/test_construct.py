"""`zoo data construct`: pairs from a policy's own images, judged from pixels, written resumably."""

from __future__ import annotations

import json

import numpy as np
import torch
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
    assert written["ranking"] == {"margin": 0.0, "objects_weight": 1.0, "clutter_weight": 0.0}  # how images were ranked
    # a margin no pair of these (untrained, near-blank) images reaches: every prompt is counted as flat
    strict = construct(prompts, out=tmp_path / "strict", experiment=str(experiment), rule="ranked", count=6,
                       images_per_prompt=4,
                       steps=2, margin=10.0, prompts_per_shard=3)
    assert strict["pairs"] == 0 and strict["flat_prompts"] == 6


def test_ranked_rule_with_clutter_weight_prefers_the_clean_image_over_one_with_an_object_drawn_twice(spatial_set):
    from zoo.bench.prompts import BenchItem
    from zoo.construct.rules import ranked_chunk
    from zoo.reward.negatives import duplicate_object

    shard = sorted((spatial_set / "pairs").glob("train-*.tar"))[0]
    pairs = [decode_pair(raw) for raw in iter_tar_samples(str(shard), ErrorLog("raise", "test"))]
    rng = np.random.default_rng(0)
    for pair in pairs[:8]:
        twice = duplicate_object(pair["chosen"], pair["meta"], 0, rng)
        if twice is not None:
            break
    assert twice is not None
    scene = {k: pair["meta"][k] for k in ("objects", "relations")}
    item = BenchItem("p0", pair["prompt"], "test", {"scene": scene})
    images = np.stack([np.array(twice.convert("RGB")), np.array(pair["chosen"].convert("RGB"))])
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255  # the duplicate first, then the clean one
    both = verify_images(images, [scene, scene])
    assert both[0]["score"] == both[1]["score"] and both[0]["clutter"] > both[1]["clutter"] == 0.0

    def run(clutter_weight):
        return ranked_chunk([item], lambda texts, seeds: tensor, 2, lambda i, k: k, 0, margin=0.1,
                            clutter_weight=clutter_weight)

    flat, stats = run(0.0)  # relations and objects alike: the clutter alone cannot tell them apart
    assert flat == [] and stats["reasons"] == {"flat": 1}
    (kept,), _ = run(8.0)
    assert np.array_equal(kept["chosen"], images[1]) and np.array_equal(kept["rejected"], images[0])
    assert kept["meta"]["rejected_verdict"]["clutter"] > 0
