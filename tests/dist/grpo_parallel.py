"""Run under torchrun with 2 CPU processes (gloo): GRPOModule with DDP (full policy, SpatialScore + verifier mixed
by advantage), then with ModelParallelStrategy (FSDP2: LoRA policy, KL to the adapter-free base, the frozen
SpatialScore sharded too, EMA shard by shard), including a checkpoint resume; each rank writes a JSON report."""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.strategies import ModelParallelStrategy
from torch.distributed.tensor import DTensor

from callbacks import EMACallback
from modules.checkpointing import FINGERPRINT_KEY, check_fingerprint, frozen_fingerprint
from modules.grpo import GRPOModule
from rl_common import TINY, fit, full
from zoo.policy.flux import FluxPolicy, LoraSpec
from zoo.rl.rewards import RewardMix, SpatialScoreReward, VerifierReward

def ddp(scorer: str) -> dict:
    torch.manual_seed(0)
    reward = RewardMix({"spatialscore": SpatialScoreReward(scorer), "verifier": VerifierReward()},
                       weights={"spatialscore": 1.0, "verifier": 0.5}, mode="advantage")
    module = GRPOModule(FluxPolicy(tiny=TINY, guidance=1.0), reward, steps=4, minibatches=2, lr=3e-3, clip_range=0.2)
    trainer = fit("ddp", module, 4)
    return {"step": trainer.global_step, "stats": module.rl_stats, "prompts": module.last_rollout["prompts"],
            "param_sum": float(sum(p.double().sum() for p in module.policy.parameters()))}


def fsdp2_module(scorer: str) -> GRPOModule:
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY, guidance=1.0, lora=LoraSpec(r=4, alpha=8))
    return GRPOModule(policy, SpatialScoreReward(scorer), steps=4, minibatches=2, lr=3e-3, clip_range=0.2, beta=0.05)


def fsdp2(scorer: str, ckpt_dir: str) -> dict:
    strategy = lambda: ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1)  # noqa: E731
    straight, ema_a = fsdp2_module(scorer), EMACallback(decay=0.9, every_n_steps=2)
    trainer = fit(strategy(), straight, 4, [ema_a])
    first = fsdp2_module(scorer)
    ckpt = ModelCheckpoint(dirpath=ckpt_dir, every_n_train_steps=2, save_top_k=-1)
    fit(strategy(), first, 2, [EMACallback(decay=0.9, every_n_steps=2), ckpt])
    resumed, ema_c = fsdp2_module(scorer), EMACallback(decay=0.9, every_n_steps=2)
    path = f"{ckpt_dir}/epoch=0-step=2.ckpt"
    fit(strategy(), resumed, 4, [ema_c], ckpt_path=path)
    saved = checkpoint_contents(path, first)
    lora = lambda m: {n: full(p) for n, p in m.policy.named_parameters() if p.requires_grad}  # noqa: E731
    a, c = lora(straight), lora(resumed)
    shadow_a = {n: full(t) for n, t in ema_a.shadow.items()}
    shadow_c = {n: full(t) for n, t in ema_c.shadow.items()}
    return {"step": trainer.global_step, "stats": straight.rl_stats,
            "policy_sharded": any(isinstance(p, DTensor) for p in straight.policy.transformer.parameters()),
            "reward_unsharded": [n for n, p in straight.reward.named_parameters() if not isinstance(p, DTensor)],
            "ema_sharded": all(isinstance(t, DTensor) for t in ema_a.shadow.values()),
            "resumed_equal": all(torch.equal(a[n], c[n]) for n in a),
            "ema_resumed_equal": ema_a.updates == ema_c.updates and all(torch.equal(shadow_a[n], shadow_c[n])
                                                                        for n in shadow_a),
            "lora_params": len(a), **saved}


def checkpoint_contents(path: str, module: GRPOModule) -> dict:
    """What the sharded checkpoint holds: exactly the trainable weights (no reward, no frozen base), and a fingerprint
    of the frozen parts equal to that of an unsharded copy of them."""
    from torch.distributed.checkpoint import FileSystemReader

    keys = FileSystemReader(path).read_metadata().state_dict_metadata.keys()
    weights = {k.removeprefix("state_dict.") for k in keys if k.startswith("state_dict.")}
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    meta = torch.load(f"{path}/meta.pt", weights_only=False)
    unsharded = frozen_fingerprint(fsdp2_module(sys.argv[2]))
    try:
        check_fingerprint(meta[FINGERPRINT_KEY], unsharded)
        mismatch = None
    except ValueError as e:
        mismatch = str(e)
    return {"ckpt_trainable_only": weights == trainable and all("lora_" in k for k in weights),
            "ckpt_frozen_parts": sorted(meta[FINGERPRINT_KEY]), "fingerprint_mismatch": mismatch}


def main(scorer: str, out: str, root: str) -> None:
    report = {"ddp": ddp(scorer), "fsdp2": fsdp2(scorer, f"{root}/ckpt")}
    with open(f"{out}.rank{dist.get_rank()}", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[2], sys.argv[3], sys.argv[4])
    if dist.is_initialized():  # an orderly teardown: exiting with a live gloo group can abort the process (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()
