"""Run under torchrun with 2 CPU processes (gloo): DiffusionNFTModule with DDP (full policy, SpatialScore + verifier
mixed by advantage), then with ModelParallelStrategy (FSDP2: LoRA policy, KL to the adapter-free base, the frozen
SpatialScore sharded, the sampling policy and EMA shard by shard), including a checkpoint resume; each rank writes a
JSON report."""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.strategies import ModelParallelStrategy
from torch.distributed.tensor import DTensor

from callbacks import EMACallback
from modules.nft import DiffusionNFTModule
from rl_common import TINY, fit, full
from zoo.policy.flux import FluxPolicy, LoraSpec
from zoo.rl.rewards import RewardMix, SpatialScoreReward, VerifierReward

def ddp(scorer: str) -> dict:
    torch.manual_seed(0)
    reward = RewardMix({"spatialscore": SpatialScoreReward(scorer), "verifier": VerifierReward()},
                       weights={"spatialscore": 1.0, "verifier": 0.5}, mode="advantage")
    module = DiffusionNFTModule(FluxPolicy(tiny=TINY, guidance=1.0), reward, steps=3, minibatches=2, lr=3e-3,
                                sampling_decay_rate=0.2)
    trainer = fit("ddp", module, 2)
    return {"step": trainer.global_step, "stats": module.rl_stats,
            "param_sum": float(sum(p.double().sum() for p in module.policy.parameters())),
            "sampling_sum": float(sum(t.double().sum() for t in module.sampling.tensors.values()))}


def fsdp2_module(scorer: str) -> DiffusionNFTModule:
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY, guidance=1.0, lora=LoraSpec(r=4, alpha=8))
    return DiffusionNFTModule(policy, SpatialScoreReward(scorer), steps=3, minibatches=2, lr=3e-3, kl_weight=0.05,
                              sampling_decay_rate=0.2)


def fsdp2(scorer: str, ckpt_dir: str) -> dict:
    strategy = lambda: ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1)  # noqa: E731
    straight, ema_a = fsdp2_module(scorer), EMACallback(decay=0.9, every_n_steps=2)
    trainer = fit(strategy(), straight, 4, [ema_a])
    ckpt = ModelCheckpoint(dirpath=ckpt_dir, every_n_train_steps=2, save_top_k=-1)
    fit(strategy(), fsdp2_module(scorer), 2, [EMACallback(decay=0.9, every_n_steps=2), ckpt])
    resumed, ema_c = fsdp2_module(scorer), EMACallback(decay=0.9, every_n_steps=2)
    fit(strategy(), resumed, 4, [ema_c], ckpt_path=f"{ckpt_dir}/epoch=0-step=2.ckpt")
    gathered = lambda tensors: {n: full(t) for n, t in tensors.items()}  # noqa: E731
    lora = lambda m: gathered({n: p for n, p in m.policy.named_parameters() if p.requires_grad})  # noqa: E731
    a, c = lora(straight), lora(resumed)
    old_a, old_c = gathered(straight.sampling.tensors), gathered(resumed.sampling.tensors)
    shadow_a, shadow_c = gathered(ema_a.shadow), gathered(ema_c.shadow)
    return {"step": trainer.global_step, "stats": straight.rl_stats,
            "policy_sharded": any(isinstance(p, DTensor) for p in straight.policy.transformer.parameters()),
            "reward_unsharded": [n for n, p in straight.reward.named_parameters() if not isinstance(p, DTensor)],
            "sampling_sharded": all(isinstance(t, DTensor) for t in straight.sampling.tensors.values()),
            "resumed_equal": all(torch.equal(a[n], c[n]) for n in a),
            "sampling_resumed_equal": all(torch.equal(old_a[n], old_c[n]) for n in old_a),
            "sampling_lags": any(not torch.equal(old_a[n], a[n]) for n in a),
            "ema_resumed_equal": ema_a.updates == ema_c.updates and all(torch.equal(shadow_a[n], shadow_c[n])
                                                                        for n in shadow_a),
            "lora_params": len(a)}


def main(scorer: str, out: str, root: str) -> None:
    report = {"ddp": ddp(scorer), "fsdp2": fsdp2(scorer, f"{root}/ckpt")}
    with open(f"{out}.rank{dist.get_rank()}", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[2], sys.argv[3], sys.argv[4])
    if dist.is_initialized():  # an orderly teardown: exiting with a live gloo group can abort the process (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()
