"""FSDP2 for every module: meshes (1-D or hybrid 2-D), mixed precision, activation checkpointing, `apply_fsdp` over
a model's shard units, and the full state dict gathered from shards (what an export writes)."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Iterable

import torch
from torch import nn

HYBRID_DIMS = ("replicate", "shard")


def _data_mesh(mesh):
    names = getattr(mesh, "mesh_dim_names", None) or ()
    if tuple(names) == HYBRID_DIMS:
        return mesh  # already the 2-D (replicate, shard) mesh of hybrid sharding
    return mesh["data_parallel"] if "data_parallel" in names else mesh


def fsdp_mesh(mesh, replicate: int = 1):
    """The mesh `fully_shard` uses: the data-parallel dimension of Lightning's ("data_parallel", "tensor_parallel")
    mesh, or with `replicate` > 1 a 2-D ("replicate", "shard") mesh over the same ranks (HSDP: parameters are
    sharded within a group of world/replicate ranks, one node, and replicated across the groups, the nodes)."""
    if replicate <= 1:
        return _data_mesh(mesh)
    from torch.distributed.device_mesh import init_device_mesh

    world = _data_mesh(mesh).size()
    if world % replicate:
        raise ValueError(f"hybrid sharding: {world} ranks cannot be split into {replicate} equal replica groups")
    return init_device_mesh(mesh.device_type, (replicate, world // replicate), mesh_dim_names=HYBRID_DIMS)


def mixed_precision(param_dtype: str | None):
    """FSDP2's policy for `param_dtype` ("bfloat16"): parameters gathered and computed in it (fp32 LoRA masters are
    cast on the fly), gradients reduced in fp32; None keeps each parameter's own dtype."""
    if param_dtype is None:
        return None
    from torch.distributed.fsdp import MixedPrecisionPolicy

    return MixedPrecisionPolicy(param_dtype=getattr(torch, param_dtype), reduce_dtype=torch.float32)


def shard_module(module: nn.Module, mesh, mp_policy=None) -> None:
    """`fully_shard` one module on the data-parallel (or hybrid) mesh."""
    from torch.distributed.fsdp import fully_shard

    kwargs = {"mp_policy": mp_policy} if mp_policy is not None else {}
    fully_shard(module, mesh=_data_mesh(mesh), **kwargs)


def _checkpointed_forward(self: nn.Module, *args, **kwargs):
    """The block's own forward under `torch.utils.checkpoint` (non-reentrant): activations recomputed in backward."""
    from torch.utils.checkpoint import checkpoint

    return checkpoint(type(self).forward, self, *args, use_reentrant=False, **kwargs)


def checkpoint_blocks(blocks: Iterable[nn.Module]) -> None:
    """Activation checkpointing on each block, once, through the public `torch.utils.checkpoint` (non-reentrant):
    the block's forward is wrapped in place (a bound method, so a deep copy of the model stays checkpointed on its own
    weights; parameter names unchanged), its activations recomputed in the backward pass instead of kept. Apply before
    `fully_shard`: FSDP2's pre-backward hook gathers the block's weights before the recomputation runs."""
    for block in blocks:
        if not getattr(block, "_zoo_checkpointed", False):
            block.forward = types.MethodType(_checkpointed_forward, block)
            block._zoo_checkpointed = True


@dataclass
class ShardUnit:
    """One model to shard: its `blocks` (sharded one by one, first) then its `roots` (the modules whose forward calls
    the blocks; FSDP2 gathers a unit's weights in its own forward hook only), in order. `trainable`: its blocks take
    activation checkpointing when asked (a frozen reference or reward model needs none); `mixed`: it takes the
    mixed-precision policy (a small fp32 head keeps its dtype)."""

    blocks: list[nn.Module] = field(default_factory=list)
    roots: list[nn.Module] = field(default_factory=list)
    trainable: bool = True
    mixed: bool = True


def apply_fsdp(units: Iterable[ShardUnit], mesh=None, activation_checkpointing: bool = False,
               param_dtype: str | None = None) -> None:
    """The one sharding path of every training module: activation checkpointing on the trainable units' blocks (with
    or without a mesh), then, given a mesh, FSDP2 on each unit's blocks and roots in order, with mixed precision in
    `param_dtype` where the unit takes it. Never the LightningModule itself."""
    units = list(units)
    if activation_checkpointing:
        for unit in units:
            if unit.trainable:
                checkpoint_blocks(unit.blocks)
    if mesh is None:
        return
    policy = mixed_precision(param_dtype)
    for unit in units:
        for module in list(unit.blocks) + list(unit.roots):
            shard_module(module, mesh, policy if unit.mixed else None)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor] | None:
    """The full, unsharded state dict on CPU if any parameter is a DTensor (FSDP2), else None."""
    from torch.distributed.tensor import DTensor

    if not any(isinstance(p, DTensor) for p in model.parameters()):
        return None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


