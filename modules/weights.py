"""Other weights than the trained ones: copies in their own layout (EMA, sampling policy, best weights) and swapping
them in for evaluation and export, shared by the training modules and callbacks."""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator

import torch
from torch import nn


class WeightScopes:
    """Mixin for LightningModules: callbacks append context managers to `weight_scopes` (the EMA callback appends
    its swap-in); `ema_scope()` enters them all, so validation, benchmarks and export see the averaged weights."""

    weight_scopes: list[Callable[[], ContextManager]]

    @contextlib.contextmanager
    def ema_scope(self) -> Iterator[None]:
        """The weights to evaluate and export for a block (the EMA callback's, when one is on)."""
        with contextlib.ExitStack() as stack:
            for scope in getattr(self, "weight_scopes", []):
                stack.enter_context(scope())
            yield


def _is_dtensor(t: torch.Tensor) -> bool:
    from torch.distributed.tensor import DTensor

    return isinstance(t, DTensor)


def trainable(module: nn.Module) -> dict[str, nn.Parameter]:
    """The module's trainable parameters by name (LoRA or full)."""
    return {n: p for n, p in module.named_parameters() if p.requires_grad}


class ShadowWeights:
    """A copy of named parameters in their own layout: under FSDP2 each rank holds only its shards (no full copy
    anywhere). The one implementation behind the EMA average, DiffusionNFT's sampling policy and the reward-hacking
    guard's best weights: averaged in (`lerp_`), swapped in for a while, copied back, saved as full tensors and
    re-sharded on load."""

    def __init__(self, params: dict[str, nn.Parameter]) -> None:
        self.tensors = {n: p.detach().clone() for n, p in params.items()}

    @torch.no_grad()
    def lerp_(self, params: dict[str, nn.Parameter], weight: float) -> None:
        """shadow <- shadow + weight (param - shadow), i.e. decay = 1 - weight."""
        for name, shadow in self.tensors.items():
            shadow.lerp_(params[name].detach(), weight)

    @torch.no_grad()
    def copy_from(self, params: dict[str, nn.Parameter]) -> None:
        """shadow <- params."""
        for name, shadow in self.tensors.items():
            shadow.copy_(params[name].detach())

    @torch.no_grad()
    def copy_to(self, params: dict[str, nn.Parameter]) -> None:
        """params <- shadow."""
        for name, shadow in self.tensors.items():
            params[name].copy_(shadow)

    @contextlib.contextmanager
    def swapped_in(self, params: dict[str, nn.Parameter]) -> Iterator[None]:
        """These weights in the parameters for a while; the parameters' own restored after."""
        saved = ShadowWeights({n: params[n] for n in self.tensors})
        self.copy_to(params)
        try:
            yield
        finally:
            saved.copy_to(params)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Full tensors on the CPU (FSDP2 shards gathered)."""
        return {n: (t.full_tensor() if _is_dtensor(t) else t).detach().cpu() for n, t in self.tensors.items()}

    @torch.no_grad()
    def load_state_dict(self, saved: dict[str, torch.Tensor], what: str = "weights") -> None:
        """Full tensors from `state_dict`, each re-sharded like the shadow it replaces."""
        missing = sorted(set(self.tensors) - set(saved))
        if missing:
            raise KeyError(f"{what} in the checkpoint lack {missing[:3]} ({len(missing)} parameters)")
        for name, shadow in self.tensors.items():
            value = saved[name].to(shadow.to_local().device if _is_dtensor(shadow) else shadow.device)
            if _is_dtensor(shadow):
                from torch.distributed.tensor import distribute_tensor

                value = distribute_tensor(value, shadow.device_mesh, shadow.placements, src_data_rank=None)
            shadow.copy_(value)
