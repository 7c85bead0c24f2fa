"""One rule for a policy's benchmark images: `zoo bench`, `zoo policy eval` and the benchmark callback generate the
same images for the same policy, so their numbers agree."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pytest
import torch

from callbacks import BenchmarkCallback
from zoo.bench.policy_eval import policy_eval
from zoo.bench.run import bench
from zoo.images import from_uint8, to_uint8
from zoo.policy.flux import FluxPolicy, TinyFlux

CONFIG = ("model:\n  class_path: modules.FlowMatchingModule\n  init_args:\n    policy:\n"
          "      class_path: zoo.policy.flux.FluxPolicy\n      init_args:\n"
          "        tiny: {image_size: 32, pixel_factor: 2, identity_init: true}\n        guidance: 1.0\n")


def test_uint8_round_trip_is_exact():
    arrays = np.random.default_rng(0).integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    assert np.array_equal(to_uint8(from_uint8(arrays)), arrays)


def test_zoo_bench_policy_eval_and_the_callback_agree_on_a_policy(spatial_set, tmp_path):
    torch.manual_seed(1)
    policy = FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2, identity_init=True), guidance=1.0)
    policy.save(tmp_path / "policy")
    (tmp_path / "sft.yaml").write_text(CONFIG)
    prompts = str(spatial_set / "prompts" / "test-*.tar")
    common = {"experiment": str(tmp_path / "sft.yaml"), "weights": str(tmp_path / "policy"), "count": 6, "steps": 2,
              "batch_size": 4}
    table = bench(prompts, out=str(tmp_path / "bench"), **common)["table"]
    evaluated = policy_eval(prompts, out=str(tmp_path / "eval"), **common)
    pairs = {"Overall": "relations", "objects found": "objects_found", "colour found": "colour_found",
             "clutter": "clutter", "Overall (v1)": "relations_v1", "placement": "placement"}
    assert {c: table[c] for c in pairs} == {c: evaluated[k] for c, k in pairs.items()}  # exactly
    module = L.LightningModule()
    module.policy = policy
    callback = BenchmarkCallback(prompts, count=6, every_n_steps=0, steps=2, batch_size=4, out_dir=str(tmp_path / "cb"))
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    callback.setup(trainer, module, "fit")
    assert callback.evaluate(trainer, module) == pytest.approx(table, abs=0.0)
    bench_rows = [json.loads(line) for line in (tmp_path / "bench" / "samples.jsonl").read_text().splitlines()]
    eval_rows = [json.loads(line) for line in (tmp_path / "eval" / "samples.jsonl").read_text().splitlines()]
    assert [r["score"] for r in bench_rows] == [r["score"] for r in eval_rows]
