"""How every policy family builds its transformer: whole, or on the meta device (shapes only) to be sharded and
filled later (`FlowPolicy.materialize`), from a config or from a checkpoint's `transformer/` folder."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from zoo.dist.weights import WeightFiles, build_on_meta, local_checkpoint


def build_transformer(factory: Callable[[], nn.Module], init_device: str | None = None,
                      dtype: torch.dtype | None = None) -> nn.Module:
    """`factory()` (a transformer from its config), on the meta device when `init_device` is "meta"."""
    if init_device not in (None, "meta"):
        raise ValueError(f"init_device must be 'meta' or null, got {init_device!r}")
    if init_device == "meta":
        return build_on_meta(factory, dtype)
    module = factory()
    return module.to(dtype) if dtype is not None else module


def pretrained_pipeline(pipeline_cls, transformer_cls, pretrained: str, dtype: str = "float32",
                        init_device: str | None = None) -> tuple[object, WeightFiles | None]:
    """A diffusers pipeline from a checkpoint, and the weight files to fill its transformer from later: with
    `init_device: meta` the text encoders and VAE load whole and the transformer is built on meta, to be filled shard
    by shard (after FSDP2 sharding) from `pretrained`'s transformer safetensors; otherwise everything loads whole."""
    torch_dtype = getattr(torch, dtype)
    if init_device is None:
        return pipeline_cls.from_pretrained(pretrained, torch_dtype=torch_dtype), None
    folder = local_checkpoint(pretrained, ["transformer/*"]) / "transformer"
    config = transformer_cls.load_config(str(folder))
    transformer = build_transformer(lambda: transformer_cls.from_config(config), init_device, torch_dtype)
    pipe = pipeline_cls.from_pretrained(pretrained, transformer=transformer, torch_dtype=torch_dtype)
    return pipe, WeightFiles(folder)
