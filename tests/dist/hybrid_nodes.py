"""Run under two torchrun agents (`--nnodes 2 --nproc_per_node N`, c10d rendezvous): two CPU "nodes" (gloo) training
GRPOModule and RewardModule with hybrid sharding, a 2-D (replicate, shard) mesh, through the same code path as a
multi-node GPU run: meta-built models materialised after `fully_shard`, activation checkpointing, bf16 frozen
weights with fp32 LoRA, and a pretrained reward backbone read shard by shard. Each rank writes a JSON report."""

from __future__ import annotations

import json
import os
import sys

import lightning as L
import torch
from lightning.pytorch.strategies import ModelParallelStrategy
from torch.distributed.tensor import DTensor

from callbacks import EMACallback
from datamodules import PreferencePairDataModule, PromptDataModule
from modules.grpo import GRPOModule
from modules.reward import RewardModule
from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.reward.parts import TrainableParts
from zoo.reward.qwen_vl import QwenVLBackbone
from zoo.rl.rewards import SpatialScoreReward

TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


def _trainer(steps: int, root: str, callbacks=()) -> L.Trainer:
    world, per_node = int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_WORLD_SIZE"])  # as torchrun set them
    return L.Trainer(accelerator="cpu", devices=per_node, num_nodes=world // per_node, max_steps=steps, logger=False,
                     strategy=ModelParallelStrategy(data_parallel_size=world, tensor_parallel_size=1),
                     enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                     limit_val_batches=0, default_root_dir=root, callbacks=list(callbacks))


def _layout(module: torch.nn.Module) -> dict:
    """Mesh names and shape, placements and dtypes of a module's parameters; whether any is still on meta."""
    params = dict(module.named_parameters())
    dtensors = [p for p in params.values() if isinstance(p, DTensor)]
    first = dtensors[0] if dtensors else None
    return {"all_dtensor": len(dtensors) == len(params),
            "mesh": list(first.device_mesh.mesh_dim_names) if first is not None else None,
            "mesh_shape": list(first.device_mesh.shape) if first is not None else None,
            "placements": [str(p) for p in first.placements] if first is not None else None,
            "meta": any(p.is_meta for p in params.values()),
            "dtypes": sorted({str(p.dtype) for n, p in params.items() if "lora_" not in n}),
            "lora_dtypes": sorted({str(p.dtype) for n, p in params.items() if "lora_" in n})}


def _lora_sum(module: torch.nn.Module) -> float:
    full = [(p.full_tensor() if isinstance(p, DTensor) else p).detach().double() for n, p in module.named_parameters()
            if "lora_" in n]
    return float(sum(t.sum() for t in full))


def grpo(prompts: str, scorer: str, root: str) -> dict:
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY, guidance=1.0, lora=LoraSpec(r=4, alpha=8), dtype="bfloat16", init_device="meta")
    module = GRPOModule(policy, SpatialScoreReward(scorer), steps=4, minibatches=2, lr=3e-3, clip_range=0.2,
                        beta=0.05, activation_checkpointing=True, hybrid_shard=True, param_dtype="bfloat16")
    data = PromptDataModule(train=prompts, batch_size=4, group_size=4, steps_per_epoch=20, seed=2)
    trainer = _trainer(2, root, [EMACallback(decay=0.9, every_n_steps=1)])
    trainer.fit(module, datamodule=data)
    blocks = list(policy.transformer.transformer_blocks) + list(policy.transformer.single_transformer_blocks)
    return {"step": trainer.global_step, "stats": module.rl_stats, "policy": _layout(policy.transformer),
            "reward": _layout(module.reward), "lora_sum": _lora_sum(policy.transformer),
            "checkpointed": all(getattr(b, "_zoo_checkpointed", False) for b in blocks),
            "prompts": module.last_rollout["prompts"]}


def reward(pairs: str, checkpoint: str, root: str) -> dict:
    torch.manual_seed(0)
    backbone = QwenVLBackbone(pretrained=checkpoint, template="{image}{prompt}", min_pixels=48 * 48,
                              max_pixels=48 * 48, init_device="meta")
    module = RewardModule(backbone, parts=TrainableParts(mode="lora", lora_r=4, lora_alpha=8), lr=1e-3,
                          activation_checkpointing=True, hybrid_shard=True)
    data = PreferencePairDataModule(train=pairs, batch_size=2, eval_batch_size=4, train_samples_per_epoch=16)
    trainer = _trainer(2, root)
    trainer.fit(module, datamodule=data)
    saved = type(backbone.model).from_pretrained(checkpoint).state_dict()
    frozen = {n: p for n, p in backbone.model.named_parameters() if not p.requires_grad}
    loaded = all(torch.equal(p.full_tensor(), saved[n.replace(".base_layer.", ".")]) for n, p in frozen.items())
    return {"step": trainer.global_step, "loss": float(trainer.callback_metrics["train/loss"]),
            "backbone": _layout(backbone.model), "lora_sum": _lora_sum(backbone.model), "pretrained_loaded": loaded,
            "n_frozen": len(frozen)}


def main(prompts: str, scorer: str, pairs: str, checkpoint: str, out: str, root: str) -> None:
    report = {"rank": int(os.environ["RANK"]), "world": int(os.environ["WORLD_SIZE"]),
              "group_rank": int(os.environ["GROUP_RANK"]), "grpo": grpo(prompts, scorer, root),
              "reward": reward(pairs, checkpoint, root)}
    with open(f"{out}.rank{report['rank']}", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[1:7])
