"""Run under torchrun with 2 CPU processes (gloo): RewardModule with DDP, then with ModelParallelStrategy
(FSDP2 fully_shard in configure_model, LoRA on a local tiny checkpoint), then (with a 6th argument) FSDP2 with LoRA on
an InternVL backbone built on the meta device from a local tiny checkpoint, each rank reading its shards; then caption
pretraining and flow-matching SFT through the same `configure_model` (FSDP2, bf16 mixed precision, activation
checkpointing) and the same export at fit end (shards gathered); rank 0 writes a JSON report."""

from __future__ import annotations

import json
import sys

import lightning as L
import torch
import torch.distributed as dist
from lightning.pytorch.strategies import ModelParallelStrategy
from torch.distributed.tensor import DTensor

from datamodules import PreferencePairDataModule
from modules.caption import CaptionModule
from modules.flow_matching import FlowMatchingModule
from modules.reward import RewardModule
from zoo.policy.flux import FluxPolicy, TinyFlux
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


def fit_shared_path(module: L.LightningModule, saved: torch.nn.Module, blocks: list[torch.nn.Module],
                    loss_key: str) -> dict:
    """Two FSDP2 steps of a caption or SFT module: its blocks sharded, checkpointed and computed in bf16; the first
    block's trained 1-D weights by their names in `saved` (the model the export writes)."""
    prefix = next(name for name, m in saved.named_modules() if m is blocks[0]) + "."
    computed = []
    linear = next(m for m in blocks[0].modules() if isinstance(m, torch.nn.Linear))
    linear.register_forward_hook(lambda mod, args, output: computed.append(output.dtype))
    data = PreferencePairDataModule(train=sys.argv[1], batch_size=2, train_samples_per_epoch=16)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy=ModelParallelStrategy(data_parallel_size=2,
                        tensor_parallel_size=1), max_steps=2, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0)
    trainer.fit(module, datamodule=data)
    return {"step": trainer.global_step, "loss": float(trainer.callback_metrics[loss_key]),
            "blocks_sharded": all(isinstance(p, DTensor) for b in blocks for p in b.parameters()),
            "checkpointed": all(getattr(b, "_zoo_checkpointed", False) for b in blocks),
            "bf16": bool(computed) and all(d == torch.bfloat16 for d in computed),
            "first_block": {prefix + k: v.full_tensor().float().tolist() for k, v in blocks[0].state_dict().items()
                            if k.endswith("weight") and v.ndim == 1}}


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
    torch.manual_seed(0)
    backbone = QwenVLBackbone(tiny=TINY)
    report["caption"] = fit_shared_path(
        CaptionModule(backbone, lr=1e-2, warmup_steps=0, export_dir=f"{export_root}/caption",
                      activation_checkpointing=True, param_dtype="bfloat16"), backbone.model, backbone.decoder_layers(),
        "caption/loss")
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                                      axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40), guidance=1.0)
    report["sft"] = fit_shared_path(
        FlowMatchingModule(policy, lr=1e-2, warmup_steps=0, val_images=0, export_dir=f"{export_root}/sft",
                           activation_checkpointing=True, param_dtype="bfloat16"), policy.transformer, policy.blocks(), "sft/loss")
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[3:7])
    if dist.is_initialized():  # an orderly teardown: exiting with a live gloo group can abort the process (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()
