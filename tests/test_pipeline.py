"""The main job at a small size: every stage through `zoo`, and a report built from the stages' own outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zoo.pipeline import pipeline

SMALL_DATA = {"train": 64, "val": 16, "test": 16, "prompts_train": 16, "prompts_val": 8, "prompts_test": 8,
              "shard_size": 32, "workers": 1}
FEW_STEPS = ["--trainer.max_steps", "2", "--trainer.val_check_interval", "1", "--trainer.limit_val_batches", "1"]
SMALL = {
    "reward_pretrain": ["--trainer.max_steps", "2"],
    "clip_pretrain": ["--trainer.max_steps", "2"],
    "construct": ["--images_per_prompt", "4", "--steps", "2", "--margin", "0.0"],
    "reward": FEW_STEPS, "clip_reward": FEW_STEPS, "sft": [*FEW_STEPS, "--model.init_args.val_images", "8"],
    "grpo_verifier": [*FEW_STEPS, "--data.init_args.batch_size", "8", "--data.init_args.group_size", "4"],
    "grpo_spatialscore": [*FEW_STEPS, "--data.init_args.batch_size", "8", "--data.init_args.group_size", "4"],
}


@pytest.mark.slow
def test_small_pipeline_runs_every_stage_and_reports_the_stages_own_numbers(tmp_path, capsys):
    run = tmp_path / "run"
    result = pipeline(run, data=SMALL_DATA, bench_count=8, overrides=SMALL, construct_prompts=8)
    assert all(r["status"] == "done" for r in result["stages"].values()) and len(result["stages"]) == 15
    report = json.loads((run / "report.json").read_text())
    # Table 1 is the reward-table stage's output, which re-scores the exported scorer on the test pairs
    assert report["rewards"] == json.loads((run / "reward" / "table.json").read_text())
    from zoo.data.urls import expand_urls
    from zoo.reward.scorer import load
    from zoo.reward.table import evaluate_pairs

    scorer = load(run / "reward" / "spatialscore" / "scorer")
    again = evaluate_pairs(scorer.model, expand_urls(str(run / "data" / "pairs" / "test-*.tar")), 8, "check")
    assert again["Overall"] == pytest.approx(report["rewards"]["SpatialScore (tiny Qwen2.5-VL)"]["Overall"])
    # Table 2 is each bench stage's summary, whose Overall is the mean of its per-image verdicts
    for name, label in (("sft", "starting policy (SFT)"), ("grpo_spatialscore", "GRPO, SpatialScore reward")):
        rows = [json.loads(line) for line in (run / "bench" / name / "samples.jsonl").read_text().splitlines()]
        assert report["benchmarks"][label]["table"]["Overall"] == pytest.approx(np.mean([r["score"] for r in rows]))
    text = (run / "report.md").read_text()
    assert "| model | 1 Pert. | 2-3 Pert. | Overall |" in text and "GRPO, verifier reward" in text
    assert Path(report["plots"]["reward_grpo_spatialscore"]).is_file() and Path(report["plots"]["approx_kl"]).is_file()
    assert (run / "grpo_spatialscore" / "policy" / "transformer").is_dir()
    assert json.loads((run / "data" / "generated" / "construct_summary.json").read_text())["pairs"] == 8
    assert list((run / "sft").glob("tb/version_0/config.yaml"))  # configs as run
    capsys.readouterr()
    pipeline(run, data=SMALL_DATA, bench_count=8, overrides=SMALL, construct_prompts=8)
    assert capsys.readouterr().out.count("skipped, finished earlier") == 15
