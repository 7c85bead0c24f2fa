"""FSDP2 sharding of reward backbones, full state dicts from shards, and loading pretrained backbone weights."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def _data_mesh(mesh):
    names = getattr(mesh, "mesh_dim_names", None) or ()
    return mesh["data_parallel"] if "data_parallel" in names else mesh


def shard_module(module: nn.Module, mesh) -> None:
    """`fully_shard` one module on the data-parallel mesh."""
    from torch.distributed.fsdp import fully_shard

    fully_shard(module, mesh=_data_mesh(mesh))


def shard_backbone(backbone: nn.Module, mesh, activation_checkpointing: bool = False) -> None:
    """`fully_shard` each transformer block of the backbone (optionally checkpointed), then the modules
    whose forward the backbone calls (FSDP2 gathers a unit's weights in its forward hook only).

    Never the LightningModule itself; the fp32 head stays replicated (it is small).
    """
    from torch.distributed.fsdp import fully_shard

    mesh = _data_mesh(mesh)
    for block in backbone.decoder_layers():
        if activation_checkpointing:
            from torch.distributed._composable import checkpoint
            checkpoint(block)
        fully_shard(block, mesh=mesh)
    for root in backbone.fsdp_roots():
        fully_shard(root, mesh=mesh)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor] | None:
    """The full, unsharded state dict on CPU if any parameter is a DTensor (FSDP2), else None."""
    from torch.distributed.tensor import DTensor

    if not any(isinstance(p, DTensor) for p in model.parameters()):
        return None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_backbone_weights(backbone: nn.Module, folder: Path) -> None:
    """Load `folder/model` (saved with save_pretrained: a caption-pretraining export or a scorer) into the backbone."""
    path = Path(folder) / "model"
    if not path.is_dir() or not any(path.glob("*.safetensors")):
        raise FileNotFoundError(f"no weights to start from: {path} has no .safetensors files")
    saved = type(backbone.model).from_pretrained(path)
    missing, unexpected = backbone.model.load_state_dict(saved.state_dict(), strict=False)
    if missing or unexpected:
        raise ValueError(f"weights in {path} do not fit the backbone: missing {missing[:5]}, unexpected {unexpected[:5]}")
