"""Checkpoints of trainable state only, shared by the training modules: the frozen parts (a reward model, a reference
copy, the base under LoRA, text encoders, a VAE) are rebuilt from the config on resume instead of riding in every
`.ckpt`; a fingerprint of them is saved instead, so a resume on other frozen weights fails instead of drifting."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.dist.weights import local_region

FINGERPRINT_KEY = "frozen_fingerprint"


def trainable_keys(module: nn.Module) -> set[str]:
    """State-dict names of the parameters that train (requires_grad)."""
    return {name for name, param in module.named_parameters() if param.requires_grad}


def _offsets(tensor: torch.Tensor) -> list[int] | None:
    """Where this rank's part of the tensor starts in the full tensor, per dimension (None: a layout not handled)."""
    from torch.distributed.tensor import DTensor, Replicate

    if not isinstance(tensor, DTensor) or all(isinstance(p, Replicate) for p in tensor.placements):
        return [0] * tensor.ndim
    region = local_region(tensor)
    return None if region is None else [r.start for r in region]


def _local_sums(tensor: torch.Tensor) -> list[float]:
    """This rank's share of (sum, sum of squares, index moment, count) of a tensor, such that adding the shares of all
    ranks gives the full tensor's: a DTensor's shard divided by how many ranks replicate it; a plain tensor (the same
    on every rank) divided by the world size. The index moment (sum over dimensions d of sum_i (i_d + 1) x_i / (d + 2))
    tells apart tensors that differ by a permutation; NaN when the layout is not handled."""
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor, Replicate

    if isinstance(tensor, DTensor):
        copies = 1
        for dim, placement in enumerate(tensor.placements):
            copies *= tensor.device_mesh.size(dim) if isinstance(placement, Replicate) else 1
        local = tensor.to_local()
    else:
        copies = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        local = tensor
    values, offsets = local.detach().double(), _offsets(tensor)
    moment = 0.0 if offsets is not None else float("nan")
    for d in range(values.ndim if offsets is not None else 0):
        margin = values.sum(dim=[k for k in range(values.ndim) if k != d]) if values.ndim > 1 else values
        index = torch.arange(margin.numel(), dtype=torch.float64, device=margin.device) + offsets[d] + 1
        moment += float((index * margin).sum()) / (d + 2)
    sums = [float(values.sum()), float((values * values).sum()), moment, float(values.numel())]
    return [v / copies for v in sums]


def frozen_fingerprint(module: nn.Module) -> dict[str, list[float]]:
    """Per top-level part ("policy", "reward", "reference", "model", ...): [sum, sum of squares, index moment, count]
    over the frozen floating-point parameters and persistent buffers, the same whatever the sharding (the ranks'
    shares summed once, collectively: call it on every rank)."""
    import torch.distributed as dist

    keep = trainable_keys(module)
    parts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for name, tensor in nn.Module.state_dict(module, keep_vars=True).items():
        if name in keep or not tensor.is_floating_point():
            continue
        totals = parts[name.split(".")[0]]
        for i, value in enumerate(_local_sums(tensor)):
            totals[i] += value
    names = sorted(parts)
    if dist.is_available() and dist.is_initialized() and names:
        values = torch.tensor([parts[n] for n in names], dtype=torch.float64)
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        values = values.to(device)
        dist.all_reduce(values)
        return {n: [float(v) for v in row] for n, row in zip(names, values.cpu())}
    return {n: list(parts[n]) for n in names}


def check_fingerprint(saved: Mapping[str, list[float]], current: Mapping[str, list[float]], rtol: float = 1e-6) -> None:
    """Raise when the frozen parts rebuilt from the config are not the ones the checkpoint was trained with."""
    for part in sorted(set(saved) | set(current)):
        a, b = saved.get(part), current.get(part)
        same = a is not None and b is not None and len(a) == len(b) and round(a[-1]) == round(b[-1]) and all(
            math.isnan(x) or math.isnan(y) or abs(x - y) <= rtol * max(abs(x), abs(y), 1.0) for x, y in zip(a[:-1], b[:-1]))
        if not same:
            raise ValueError(f"the frozen '{part}' weights differ from those the checkpoint was trained with (sum, "
                             f"sum of squares, index moment, count: {a} saved, {b} now); the checkpoint holds the "
                             "trainable weights only, so resume with the same base, reference and reward as the run "
                             "that saved it")


class TrainableCheckpoint:
    """Mixin for LightningModules (before L.LightningModule in the bases): `state_dict` holds the trainable parameters
    only (so do Lightning's checkpoints, sharded or not); loading requires exactly those (with `strict`) and leaves
    the frozen parts as built; the checkpoint carries their fingerprint, checked on resume."""

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False):
        """The trainable parameters' entries of the module's state dict."""
        state = super().state_dict(*args, destination=destination, prefix=prefix, keep_vars=keep_vars)
        keep = {prefix + name for name in trainable_keys(self)}
        for key in [k for k in state if k.startswith(prefix) and k not in keep]:
            del state[key]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """Load what the state dict holds; with `strict`, every trainable parameter must be there and nothing
        unknown (the frozen parts may be absent: they were rebuilt from the config)."""
        everything = set(nn.Module.state_dict(self).keys())
        result = super().load_state_dict(state_dict, strict=False, assign=assign)
        frozen = everything - trainable_keys(self)
        missing = [k for k in result.missing_keys if k not in frozen]
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(f"the checkpoint does not fit {type(self).__name__}: trainable weights missing "
                               f"{missing[:5]}, unknown weights {list(result.unexpected_keys)[:5]}")
        return result

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[FINGERPRINT_KEY] = frozen_fingerprint(self)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get(FINGERPRINT_KEY)
        if saved is not None:
            check_fingerprint(saved, frozen_fingerprint(self))
