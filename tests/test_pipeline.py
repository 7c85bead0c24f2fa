"""The main job at a small size: every stage through `zoo`, and a report built from the stages' own outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from zoo.cli import _function_parser, main
from zoo.config_files import configs_root
from zoo.pipeline import DEFAULT_PIPELINE, pipeline, plan

# the command lines, needs and summaries of every stage as zoo/pipeline.py's plan() built them in Python before the
# graph moved into configs/pipeline/spatialshapes.yaml (run folder /RUN, shipped configs /CONFIGS); since then
# extended by hand with each stage added to the graph (sft_text: the T5 layout pretraining)
BEFORE = Path(__file__).parent / "data" / "pipeline_spatialshapes_argv.json"

SMALL_DATA = {"train": 64, "val": 16, "test": 16, "prompts_train": 16, "prompts_val": 8, "prompts_test": 8,
              "shard_size": 32, "workers": 1}
FEW_STEPS = ["--trainer.max_steps", "2", "--trainer.val_check_interval", "1", "--trainer.limit_val_batches", "1"]
SMALL = {
    "reward_pretrain": ["--trainer.max_steps", "2"],
    "clip_pretrain": ["--trainer.max_steps", "2"],
    "sft_text": ["--trainer.max_steps", "2", "--trainer.val_check_interval", "1", "--trainer.limit_val_batches", "1"],
    "construct": ["--images_per_prompt", "4", "--steps", "2", "--margin", "0.0"],
    "reward": FEW_STEPS, "clip_reward": FEW_STEPS, "sft": [*FEW_STEPS, "--model.init_args.val_images", "8"],
    "grpo_verifier": [*FEW_STEPS, "--data.init_args.batch_size", "8", "--data.init_args.group_size", "4"],
    "grpo_spatialscore": [*FEW_STEPS, "--data.init_args.batch_size", "8", "--data.init_args.group_size", "4"],
}


@pytest.mark.slow
def test_small_pipeline_runs_every_stage_and_reports_the_stages_own_numbers(tmp_path, capsys):
    run = tmp_path / "run"
    result = pipeline(run, data=SMALL_DATA, bench_count=8, overrides=SMALL, construct_prompts=8)
    assert all(r["status"] == "done" for r in result["stages"].values()) and len(result["stages"]) == 17
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
    assert capsys.readouterr().out.count("skipped, finished earlier") == 17


def _as_before(stages) -> dict:
    return {s.name: {"argv": [a.replace(str(configs_root()), "/CONFIGS") for a in s.argv], "after": list(s.after),
                     "summary": s.summary} for s in stages}


def test_the_yaml_graph_gives_every_stage_the_command_line_it_had_when_built_in_python():
    before = json.loads(BEFORE.read_text())
    options = yaml.safe_load(DEFAULT_PIPELINE.read_text())
    assert _as_before(plan(Path("/RUN"), options["data"], 256, 1000)) == before  # the default graph, from Python
    # and as `zoo pipeline -c configs/pipeline/spatialshapes.yaml --run_dir /RUN` parses it (omegaconf, merge keys)
    parsed = _function_parser(pipeline).parse_args(["-c", str(DEFAULT_PIPELINE), "--run_dir", "/RUN"])
    stages = plan(Path(parsed.run_dir), parsed.data, parsed.bench_count, parsed.construct_prompts, parsed.graph,
                  Path(os.fspath(parsed.config_dir)))
    assert _as_before(stages) == before
    small = plan(Path("/RUN"), {"train": 4}, 8, 2)  # options reach the references
    assert small[0].argv[-2:] == ["--train", "4"] and small[-2].argv[small[-2].argv.index("--count") + 1] == "8"


def test_configs_named_by_a_stage_are_found_next_to_the_pipeline_file_then_among_the_shipped_ones(tmp_path):
    (tmp_path / "mine.yaml").write_text("model: {}\n")
    graph = [{"name": "a", "fit": "mine.yaml", "out": "a", "export": "policy"},
             {"name": "b", "zoo": ["bench", "{run_dir}/p.tar"], "args": {"experiment": "sft/tiny_flux.yaml"},
              "after": ["a"]}]
    a, b = plan(tmp_path / "run", {}, graph=graph, config_dir=tmp_path)
    assert a.argv[:3] == ["fit", "-c", str(tmp_path / "mine.yaml")] and a.argv[-1] == str(tmp_path / "run/a/policy")
    assert b.argv == ["bench", f"{tmp_path}/run/p.tar", "--experiment", str(configs_root() / "sft/tiny_flux.yaml")]
    with pytest.raises(FileNotFoundError, match="config not found: mine.yaml"):
        plan(tmp_path / "run", {}, graph=graph)  # without the pipeline file's folder


@pytest.mark.parametrize("stage, message", [
    ({"name": "x", "zoo": ["report", "{run}"]}, r"stage 'x': unknown reference \{run\} \(known: \{run_dir\}"),
    ({"name": "x", "zoo": ["report"], "after": ["later"]}, r"stage 'x': `after` names stages listed above it"),
    ({"name": "x", "zoo": ["report"], "fit": "a.yaml"}, r"stage 'x': needs exactly one of"),
    ({"name": "x", "fit": "sft/tiny_flux.yaml", "out": "x"}, r"stage 'x': a `fit` stage needs `out` and `export`"),
    ({"name": "x", "zoo": ["report"], "needs": ["data"]}, r"stage 'x': unknown keys \['needs'\]"),
    ({"zoo": ["report"]}, r"graph\[1\] needs a `name`"),
    ({"name": "first", "zoo": ["report"]}, r"stage 'first': appears twice"),
])
def test_a_bad_stage_is_one_error_naming_the_stage_and_the_key(stage, message):
    with pytest.raises(ValueError, match=message):
        plan(Path("run"), {}, graph=[{"name": "first", "zoo": ["--version"]}, stage])


def test_a_stage_added_or_removed_in_yaml_runs_or_not_with_command_line_options_in_its_references(tmp_path, capsys):
    file = tmp_path / "pipeline" / "mine.yaml"
    file.parent.mkdir()
    file.write_text("run_dir: elsewhere\nconfig_dir: .\ngraph:\n"
                    "  - {name: first, zoo: [--version], summary: a quick stage}\n"
                    "  - {name: added, zoo: [--version], args: {quiet: '{run_dir}/x'}, after: [first]}\n")
    main(["pipeline", "-c", str(file), "--run_dir", str(tmp_path / "run"), "--parallel", "1"])
    record = json.loads((tmp_path / "run" / "stages" / "added.json").read_text())
    assert record["status"] == "done" and record["argv"] == ["--version", "--quiet", f"{tmp_path}/run/x"]
    file.write_text("\n".join(file.read_text().splitlines()[:-1]) + "\n")  # the stage removed
    capsys.readouterr()
    result = pipeline(tmp_path / "run", **{k: v for k, v in yaml.safe_load(file.read_text()).items() if k == "graph"})
    assert list(result["stages"]) == ["first"] and "skipped, finished earlier" in capsys.readouterr().out
