"""Progress a user can read: rollouts (not optimizer steps) on an RL fit's bar, and each `zoo pipeline` stage's
step N/M and ETA through ZOO_PROGRESS_FILE; the report's provenance and smoothed curves."""

from __future__ import annotations

import hashlib
import json

import lightning as L
import pytest
import torch

from callbacks.progress import ProgressFileCallback, StepProgressBar
from modules.grpo import GRPOModule
from tests.test_grpo import TINY, Brightness, _data
from zoo.pipeline import code_version, stage_status
from zoo.policy.flux import FluxPolicy
from zoo.progress import ENV, ProgressFile, eta_seconds, read_progress, tqdm
from zoo.report import provenance, smoothed


def test_tqdm_keeps_the_progress_file_at_done_and_total_through_update_and_iteration(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    monkeypatch.setenv(ENV, str(path))
    with tqdm(total=5, unit="img", disable=True) as bar:
        bar.update(2)
        assert read_progress(path)["done"] == 2 and read_progress(path)["total"] == 5
        bar.update(3)
    assert {k: read_progress(path)[k] for k in ("done", "total", "unit")} == {"done": 5, "total": 5, "unit": "img"}
    path.unlink()
    bar = tqdm(range(4), unit="pair", disable=True)
    assert list(bar) == [0, 1, 2, 3]
    assert read_progress(path)["done"] == 4  # the last count, written when the iteration ends (the bar still open)
    monkeypatch.delenv(ENV)
    ProgressFile().update(1, 2, force=True)  # no variable: nothing written, nothing raised
    assert read_progress(tmp_path / "missing.json") is None


def test_eta_is_the_work_left_at_the_rate_between_two_readings_and_the_stage_line_shows_it():
    assert eta_seconds((100.0, 10), (110.0, 30), 130) == pytest.approx(50.0)  # 2 per second, 100 left
    assert eta_seconds((100.0, 10), (100.0, 10), 130) is None and eta_seconds((0.0, 0), (1.0, 1), None) is None
    progress = {"done": 30, "total": 130, "unit": "rollout", "time": 110.0}
    assert stage_status("grpo", 95.2, progress, (100.0, 10)) == "grpo 95 s 30/130 rollout ETA 0.8 min"
    assert stage_status("grpo", 5.0, None, None) == "grpo 5 s"
    assert stage_status("bench", 7.0, {"done": 3, "total": None, "unit": "img", "time": 1.0}, (1.0, 3)) == "bench 7 s 3 img"


def test_an_rl_fit_counts_rollouts_against_the_rollouts_max_steps_allows(spatial_set, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "progress.json"))
    torch.manual_seed(0)
    module = GRPOModule(FluxPolicy(tiny=TINY, guidance=1.0), Brightness(), steps=2, noise_level=0.7, minibatches=2,
                        lr=1e-3)
    bar = StepProgressBar()
    trainer = L.Trainer(max_steps=4, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path,
                        callbacks=[bar, ProgressFileCallback()])
    trainer.fit(module, datamodule=_data(spatial_set, 4, 2))
    assert module.optimizer_steps_per_batch == 2 and trainer.global_step == 4
    assert bar.train_progress_bar.n == 2 and bar.train_progress_bar.total == 2  # not 2 of 4
    assert bar.train_progress_bar.desc.startswith("rollouts")
    written = json.loads((tmp_path / "progress.json").read_text())
    assert (written["done"], written["total"], written["unit"]) == (2, 2, "rollout")


def test_report_curves_are_smoothed_by_a_trailing_mean_and_stages_carry_their_configs_and_code():
    assert smoothed([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    code = code_version()
    assert code["version"]
    lines = provenance([{"stage": "sft", "seconds": 1.5, "configs": "ab" * 32, "code": code},
                        {"stage": "data", "seconds": 0.5},
                        {"stage": "check", "seconds": 0.1, "configs": hashlib.sha256().hexdigest()}])
    assert "| sft | 1.5 | abababababab | zoo " in "\n".join(lines) and "| data | 0.5 | - | not recorded |" in lines
    assert "| check | 0.1 | - | not recorded |" in lines  # reads no config file


@pytest.mark.parametrize("bars", [True, False])
def test_the_cli_gives_fits_the_rollout_bar_unless_bars_are_off(spatial_set, tmp_path, bars):
    from lightning.pytorch.callbacks import ProgressBar

    from zoo.cli import ZooCLI

    cli = ZooCLI(args=["-c", "configs/grpo/tiny_verifier.yaml", "--model.init_args.init_from", "null",
                       "--data.init_args.train", str(spatial_set / "prompts" / "train-*.tar"),
                       "--data.init_args.val", "null", "--trainer.logger", "false",
                       "--trainer.default_root_dir", str(tmp_path), "--trainer.enable_progress_bar", str(bars).lower()],
                 run=False)
    found = [type(c) for c in cli.trainer.callbacks if isinstance(c, ProgressBar)]
    assert found == ([StepProgressBar] if bars else [])
