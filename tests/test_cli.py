"""The `zoo` console script: project subcommands, help, shipped configs, and the pipeline's resume."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import yaml
from jsonargparse import ArgumentParser

from zoo.cli import main
from zoo.pipeline import pipeline

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_lightning_and_project_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for name in ("fit", "validate", "test", "predict", "data", "pipeline"):
        assert f"    {name}" in text


def test_version_and_a_description_of_its_own(capsys):
    import zoo

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"zoo {zoo.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "Lightning Trainer command line tool" not in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["fit", "-c", "configs/sft/tiny_flux.yaml", "--trainer.max_step", "3"],
                                  ["bench", "prompts.tar", "--out", "out", "--cou", "5"]])
def test_abbreviated_options_are_errors_not_prefix_matches(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([argv[0], *[str(ROOT / a) if a.startswith("configs/") else a for a in argv[1:]]])
    assert exit_.value.code == 2 and "unrecognized arguments: " + " ".join(argv[-2:]) in capsys.readouterr().err


def test_data_spatial_then_inspect_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "set"
    main(["data", "spatial", "--out", str(out), "--train", "12", "--val", "6", "--test", "0", "--prompts_train", "5",
          "--prompts_val", "0", "--prompts_test", "3", "--image_size", "40", "--shard_size", "5", "--workers", "1"])
    printed = capsys.readouterr().out
    assert "pairs    train 12  val 6  test 0  (5 shards)" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["prompts"] == {"train": 5, "val": 0, "test": 3}
    main(["data", "inspect", str(out / "pairs" / "*.tar"), "--verify", "true", "--out", str(tmp_path / "s.json")])
    assert "18 samples in 5 shards, 0 corrupt (world pair rules verified from pixels)" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["samples"] == 18


def test_data_pack_from_the_command_line_reports_bad_records(tmp_path, capsys):
    from PIL import Image
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "a.png")
    (tmp_path / "p.jsonl").write_text(json.dumps({"prompt": "x", "chosen": "a.png", "rejected": "a.png"}) + "\n"
                                      + json.dumps({"prompt": "y", "chosen": "a.png"}) + "\n")
    main(["data", "pack", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "packed 1 of 2 records" in printed and "1 bad" in printed and "p.jsonl:2" in printed


def test_shipped_data_configs_build_their_datamodules(spatial_set):
    for name in ("spatialshapes_pairs.yaml", "spatialshapes_prompts.yaml"):
        config = yaml.safe_load((ROOT / "configs" / "data" / name).read_text())
        kind = "pairs" if "pairs" in name else "prompts"
        for split in ("train", "val", "test"):  # point the shipped paths at a small built set
            config["init_args"][split] = config["init_args"][split].replace("data/spatialshapes", str(spatial_set))
            assert f"/{kind}/{split}-*.tar" in config["init_args"][split]
        parser = ArgumentParser()
        parser.add_subclass_arguments(L.LightningDataModule, "data")
        dm = parser.instantiate_classes(parser.parse_object({"data": config})).data
        dm.setup("fit")
        batch = next(iter(dm.val_dataloader()))
        assert len(batch["key"]) > 0 and all(isinstance(p, str) and p for p in batch["prompt"])


def test_pipeline_config_parses(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["pipeline", "-c", str(ROOT / "configs" / "pipeline" / "spatialshapes.yaml"), "--print_config"])
    assert exit_.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["run_dir"] == "runs/spatialshapes" and printed["data"]["train"] == 20000


@pytest.mark.slow
def test_pipeline_runs_resumes_and_names_a_failed_stage(tmp_path, capsys):
    data = {"train": 10, "val": 10, "test": 0, "prompts_train": 4, "prompts_val": 0, "prompts_test": 0,
            "image_size": 32, "shard_size": 10, "workers": 1}
    result = pipeline(tmp_path / "run", data=data, stages=["data", "check"])
    assert [s["status"] for s in result["stages"].values()] == ["done", "done"]
    check = json.loads((tmp_path / "run" / "stages" / "check_summary.json").read_text())
    assert check["samples"] == 10 and check["corrupt"] == 0 and (tmp_path / "run" / "data" / "val_pairs.png").exists()
    capsys.readouterr()
    pipeline(tmp_path / "run", data=data, stages=["data", "check"])
    assert capsys.readouterr().out.count("skipped, finished earlier") == 2
    with pytest.raises(SystemExit):
        pipeline(tmp_path / "bad", data={**data, "image_size": 8}, stages=["data", "check"])
    captured = capsys.readouterr()
    assert "stage 'data' failed with exit code 2" in captured.err
    assert "error: --image_size must be in [32, 512] pixels, got 8" in captured.err and "Traceback" not in captured.err
    assert "check: not run, needs data" in captured.out  # its dependent is skipped, named
    assert json.loads((tmp_path / "bad" / "stages" / "data.json").read_text())["status"] == "failed"


def test_pipeline_reruns_a_stage_whose_config_or_its_include_changed(tmp_path):
    from zoo.pipeline import config_digest

    (tmp_path / "data").mkdir()
    (tmp_path / "exp").mkdir()
    include = tmp_path / "data" / "pairs.yaml"
    include.write_text("batch_size: 8\n")
    config = tmp_path / "exp" / "run.yaml"
    config.write_text("data: ../data/pairs.yaml\nmodel: {lr: 0.1}\n")
    argv = ["fit", "-c", str(config)]
    first = config_digest(argv)
    assert config_digest(argv) == first and config_digest(["data", "spatial"]) != first
    include.write_text("batch_size: 16\n")
    second = config_digest(argv)
    config.write_text("data: ../data/pairs.yaml\nmodel: {lr: 0.2}\n")
    assert len({first, second, config_digest(argv)}) == 3


def test_a_stage_that_runs_again_makes_its_dependents_run_again(tmp_path, capsys):
    from zoo.pipeline import Stage, run_stages

    stages = [Stage("first", ["--version"], "a quick stage"), Stage("second", ["--version"], "after it", ("first",))]
    run_stages(stages, tmp_path)
    run_stages(stages, tmp_path)
    assert capsys.readouterr().out.count("skipped, finished earlier") == 2
    (tmp_path / "stages" / "first.json").unlink()  # e.g. deleted to redo it, or its config changed
    records = run_stages(stages, tmp_path)
    out = capsys.readouterr().out
    assert "skipped" not in out and "second: done" in out  # not the stale result of the old first run
    assert records["second"]["inputs"] == {"first": records["first"]["run_id"]}


def test_data_construct_from_the_command_line_reports_an_empty_prompt_file_and_refuses_an_unknown_rule(tmp_path,
                                                                                                        capsys):
    empty = tmp_path / "prompts.jsonl"
    empty.write_text("")
    main(["data", "construct", str(empty), "--out", str(tmp_path / "out"), "--experiment", "not_read.yaml", "--judge",
          "qwen_vl", "--spatial_only", "true"])
    assert "skipped: " in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "construct_summary.json").read_text())["input_problems"] == [
        f"{empty}: no prompts"]
    with pytest.raises(SystemExit):
        main(["data", "construct", str(empty), "--out", str(tmp_path / "out"), "--experiment", "x.yaml", "--rule",
              "best"])
    assert "best" in capsys.readouterr().err
