"""Benchmark suites behind one protocol: the built-ins by name, a new suite from its own file by dotted path, and
the benchmark callback running any of them."""

from __future__ import annotations

import json
from typing import Any, Sequence

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

from callbacks import BenchmarkCallback
from zoo.bench.prompts import BenchItem
from zoo.bench.run import bench
from zoo.bench.runner import image_seed
from zoo.bench.suite import SUITE_REGISTRY, Suite, get_suite
from zoo.bench.suites import JUDGED, SUITES, load_suite, suite_table
from zoo.errors import UsageError
from zoo.images import to_uint8
from zoo.policy.flux import FluxPolicy, TinyFlux


class Brightness(Suite):
    """A suite defined outside the zoo (here, in a test file): fixed prompts, an image's mean value as its score."""

    name = "brightness"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        return [BenchItem(f"p{i}", f"a {word} canvas", "all", {}) for i, word in enumerate(prompts.split(","))]

    def judge_image(self, item: BenchItem, image: np.ndarray, judge: Any) -> dict[str, Any]:
        return {"score": float(image.mean() / 255)}

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return {"brightness": float(np.mean([r["score"] for r in rows]))}


def test_the_built_in_suites_are_registered_with_who_judges_them():
    assert set(SUITES) == {"spatialbench", "geneval", "tiif", "unigenbench", "dpg"} and set(SUITES) <= set(SUITE_REGISTRY)
    assert set(JUDGED) == {"geneval", "tiif", "unigenbench", "dpg"}
    with pytest.raises(ValueError, match="one of"):
        get_suite("nope")
    with pytest.raises(ValueError, match="cannot import"):
        get_suite("tests.test_bench_suites.Missing")


def test_a_suite_from_its_own_file_loads_and_tabulates_by_dotted_path():
    suite = get_suite("tests.test_bench_suites.Brightness")
    items = load_suite(suite, "red,blue,green", count=2)
    assert [i.id for i in items] == ["p0", "p1"]
    rows = [suite.judge_image(i, np.full((4, 4, 3), 51 * (k + 1), np.uint8), None) for k, i in enumerate(items)]
    assert suite_table(suite, items, rows) == {"brightness": pytest.approx(0.3)}


def test_the_benchmark_callback_runs_any_suite(tmp_path):
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1), guidance=1.0)
    module = L.LightningModule()
    module.policy = policy
    bench = BenchmarkCallback("red,blue,green", count=3, every_n_steps=0, steps=2, batch_size=2,
                              out_dir=str(tmp_path), suite="tests.test_bench_suites.Brightness")
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path)
    bench.setup(trainer, module, "fit")
    table = bench.evaluate(trainer, module)
    with torch.no_grad():
        images, _ = policy.generate(["a red canvas", "a blue canvas", "a green canvas"],
                                    [image_seed(0, i, 0) for i in ("p0", "p1", "p2")], steps=2)
    assert table == {"brightness": pytest.approx(float(np.mean([a.mean() / 255 for a in to_uint8(images)])))}
    assert json.loads((tmp_path / "step_0.json").read_text())["images"] == 3
    with pytest.raises(ValueError, match="judge_model"):
        BenchmarkCallback("x", suite="geneval")


def test_zoo_bench_runs_a_suite_from_its_own_file(tmp_path):
    for i, value in enumerate((51, 102, 153)):
        (tmp_path / "images" / f"p{i}").mkdir(parents=True)
        Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(tmp_path / "images" / f"p{i}" / "0.png")
    summary = bench("red,blue,green", out=str(tmp_path / "run"), images=str(tmp_path / "images"),
                    suite="tests.test_bench_suites.Brightness")
    assert summary["suite"] == "brightness" and summary["table"] == {"brightness": pytest.approx(0.4)}
    with pytest.raises(UsageError, match="one of"):
        bench("x", out=str(tmp_path / "other"), images=str(tmp_path / "images"), suite="nope")
