"""Run under torchrun with 2 CPU processes (gloo): RewardModule with DDP, then with ModelParallelStrategy
(FSDP2 fully_shard in configure_model, LoRA on a local tiny checkpoint), then (with a 6th argument) FSDP2 with LoRA on
an InternVL backbone built on the meta device from a local tiny checkpoint, each rank reading its shards; rank 0
writes a JSON report."""

from __future__ import annotations

import json
import sys

import lightning as L
import torch
import torch.distributed as dist
from lightning.pytorch.strategies import ModelParallelStrategy
from torch.distributed.tensor import DTensor

from datamodules import PreferencePairDataModule
from modules.reward import RewardModule
from zoo.reward.internvl import InternVLBackbone
from zoo.reward.parts import TrainableParts
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL

TINY = TinyQwenVL(image_size=48, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1, vision_hidden_size=32,
                  vision_layers=1, vision_heads=2)


def fit(strategy, backbone, parts, export: str) -> dict:
    torch.manual_seed(0)
    module = RewardModule(backbone, parts=parts, lr=1e-3, export_dir=export)
    data = PreferencePairDataModule(train=sys.argv[1], val=sys.argv[2], batch_size=2, eval_batch_size=4,
                                    train_samples_per_epoch=16)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy=strategy, max_steps=3, logger=False,
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                        limit_val_batches=2, val_check_interval=3)
    trainer.fit(module, datamodule=data)
    sharded = any(isinstance(p, DTensor) for p in module.model.parameters())
    blocks = backbone.decoder_layers()
    return {"step": trainer.global_step, "loss": float(trainer.callback_metrics["train/loss"]), "sharded": sharded,
            "val": float(trainer.callback_metrics["val/acc_overall"]),
            "blocks_sharded": all(isinstance(p, DTensor) for b in blocks for p in b.parameters()),
            "meta_left": any(p.is_meta for p in module.model.parameters()),
            "bytes_read": backbone.weights.bytes_read if backbone.weights is not None else None}


def main(out: str, checkpoint: str, export_root: str, internvl: str | None = None) -> None:
    report = {"ddp": fit("ddp", QwenVLBackbone(tiny=TINY), TrainableParts(mode="full"), f"{export_root}/ddp")}
    backbone = QwenVLBackbone(pretrained=checkpoint, template="{image}{prompt}", min_pixels=48 * 48, max_pixels=48 * 48)
    fsdp = ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1)
    report["fsdp2"] = fit(fsdp, backbone, TrainableParts(mode="lora", lora_r=4, lora_alpha=8), f"{export_root}/fsdp2")
    if internvl:
        backbone = InternVLBackbone(pretrained=internvl, template="{image}{prompt}", init_device="meta")
        fsdp = ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1)
        report["internvl"] = fit(fsdp, backbone, TrainableParts(mode="lora", lora_r=4, lora_alpha=8),
                                 f"{export_root}/internvl")
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[3:7])
    if dist.is_initialized():  # an orderly teardown: exiting with a live gloo group can abort the process (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()
