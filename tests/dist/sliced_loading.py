"""Run under torchrun with 2 CPU processes (gloo): a meta-built policy transformer, FSDP2-sharded, reads its pretrained
safetensors (each rank only its slices; bytes counted), then the same with activation checkpointing applied before
`fully_shard`, and a module whose shapes split unevenly: full weights, gradients, bytes read and the recomputation
count go to one report per rank."""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist
from rl_common import TINY, full
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor

from zoo.dist.fsdp import ShardUnit, apply_fsdp
from zoo.dist.weights import WeightFiles
from zoo.policy.flux import FluxPolicy


def _blocks(transformer: torch.nn.Module) -> list[torch.nn.Module]:
    return list(transformer.transformer_blocks) + list(transformer.single_transformer_blocks)


def sharded_policy(folder: str, mesh, checkpointed: bool) -> tuple[FluxPolicy, WeightFiles]:
    """The tiny policy built on meta, (checkpointed,) sharded, then materialised from `folder`."""
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY, guidance=1.0, init_device="meta")
    policy.weights = WeightFiles(folder)
    apply_fsdp([ShardUnit(_blocks(policy.transformer), [policy.transformer])], mesh, activation_checkpointing=checkpointed)
    policy.materialize("cpu")
    return policy, policy.weights


def gradients(policy: FluxPolicy) -> tuple[dict[str, torch.Tensor], int]:
    """Full gradients of one flow-matching loss (the same batch on both ranks), and how often a block's first
    linear layer ran."""
    count = [0]
    inner = next(m for m in _blocks(policy.transformer)[0].modules() if isinstance(m, torch.nn.Linear))
    inner.register_forward_hook(lambda *_: count.__setitem__(0, count[0] + 1))
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    loss = policy.flow_matching_loss(images, ["a red circle", "a blue square"], torch.Generator().manual_seed(2))
    loss.backward()
    return {n: full(p.grad) for n, p in policy.transformer.named_parameters()}, count[0]


def odd_shapes() -> torch.nn.Module:
    """Shapes that split unevenly over 2 ranks: 3 rows (2 + 1) and 1 row (1 + 0)."""
    return torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Embedding(1, 4))


def uneven(folder: str, mesh) -> tuple[dict[str, torch.Tensor], int]:
    """`odd_shapes` built on meta, sharded, read from `folder`: its full weights and the bytes this rank read."""
    from torch.distributed.fsdp import fully_shard

    with torch.device("meta"):
        module = odd_shapes()
    fully_shard(module, mesh=mesh)
    module.to_empty(device="cpu")
    weights = WeightFiles(folder)
    weights.load_into(module)
    return {n: full(p) for n, p in module.state_dict().items()}, weights.bytes_read


def main(folder: str, out: str, odd_folder: str) -> None:
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    plain, weights = sharded_policy(folder, mesh, checkpointed=False)
    loaded = {n: full(p) for n, p in plain.transformer.state_dict().items()}
    grads, calls = gradients(plain)
    checkpointed, _ = sharded_policy(folder, mesh, checkpointed=True)
    grads_ckpt, calls_ckpt = gradients(checkpointed)
    odd, odd_bytes = uneven(odd_folder, mesh)
    report = {
        "rank": dist.get_rank(), "bytes_read": weights.bytes_read,
        "all_sharded": all(isinstance(p, DTensor) for p in plain.transformer.parameters()),
        "max_grad_diff": max(float((grads[n] - grads_ckpt[n]).abs().max()) for n in grads),
        "grad_norm": float(sum(g.double().norm() ** 2 for g in grads.values()) ** 0.5),
        "calls": calls, "calls_checkpointed": calls_ckpt, "odd_bytes_read": odd_bytes,
    }
    torch.save({"policy": loaded, "odd": odd}, f"{out}.rank{dist.get_rank()}.pt")
    with open(f"{out}.rank{dist.get_rank()}", "w") as f:
        json.dump(report, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
