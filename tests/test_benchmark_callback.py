"""BenchmarkCallback: SpatialBench during training, logged and written at the steps asked for."""

from __future__ import annotations

import json

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from callbacks import BenchmarkCallback
from callbacks.benchmark import rank_share
from datamodules import PreferencePairDataModule
from modules.flow_matching import FlowMatchingModule
from zoo.policy.flux import FluxPolicy, TinyFlux


def test_rank_share_covers_every_item_once():
    items = list(range(11))
    shares = [rank_share(items, r, 3) for r in range(3)]
    assert sorted(i for s in shares for i, _ in s) == items
    assert [len(s) for s in shares] == [4, 4, 3]


def test_benchmark_callback_logs_and_writes_at_the_asked_steps(spatial_set, tmp_path):
    torch.manual_seed(0)
    module = FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2), guidance=1.0), lr=1e-3)
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=4,
                                    train_samples_per_epoch=40)
    bench = BenchmarkCallback(str(spatial_set / "prompts" / "val-*.tar"), count=6, every_n_steps=2, steps=2,
                              batch_size=4, out_dir=str(tmp_path / "bench"))
    trainer = L.Trainer(max_steps=5, accelerator="cpu", logger=TensorBoardLogger(tmp_path, name="tb"),
                        callbacks=[bench], enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, limit_val_batches=0)
    trainer.fit(module, datamodule=data)
    written = sorted(p.name for p in (tmp_path / "bench").glob("step_*.json"))
    assert written == ["step_2.json", "step_4.json", "step_5.json"]  # every 2 steps and at the end
    record = json.loads((tmp_path / "bench" / "step_5.json").read_text())
    assert record["images"] == 6 and 0.0 <= record["table"]["Overall"] <= 1.0
    assert module.policy.transformer.training  # generation does not leave the policy in eval mode
    events = EventAccumulator(str(next((tmp_path / "tb").rglob("events.out.tfevents.*")))).Reload()
    assert "bench/Overall" in events.Tags()["scalars"] and "bench/samples" in events.Tags()["images"]
    assert [e.step for e in events.Scalars("bench/Overall")] == [2, 4, 5]
