"""Weights for meta-built models: materialising them (each rank only its shards), random initialisation that two
copies of a model share, and pretrained safetensors read tensor by tensor (`WeightFiles`); checkpoint folders on disk
or in the hub cache."""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Callable

import torch
from torch import nn


def has_meta(module: nn.Module) -> bool:
    """Whether any parameter or buffer of the module is on the meta device (built, not yet materialised)."""
    return any(t.is_meta for t in list(module.parameters()) + list(module.buffers()))


@torch.no_grad()
def init_random_(module: nn.Module, std: float = 0.02, seed: int = 0) -> None:
    """Random weights for a materialised module, parameter by parameter (sharded or not): matrices N(0, std),
    1-D `weight`s (norm scales) 1, biases and LoRA `lora_B` 0, so LoRA starts as the identity. Each parameter
    draws from a generator seeded by its name, so two copies of a model (policy and reference) agree."""
    from torch.distributed.tensor import DTensor

    for name, param in module.named_parameters():
        local = param.to_local() if isinstance(param, DTensor) else param
        if "lora_B" in name or (param.ndim == 1 and not name.endswith("weight")):
            local.zero_()
        elif param.ndim == 1:
            local.fill_(1.0)
        else:
            gen = torch.Generator(device=local.device).manual_seed(seed + zlib.crc32(name.encode()))
            local.normal_(0.0, std if "lora_A" not in name else 1.0 / max(1, param.shape[0]), generator=gen)


def init_buffers_(module: nn.Module) -> None:
    """Recompute non-persistent buffers that `to_empty` left uninitialised (rotary `inv_freq` of HF models)."""
    for sub in module.modules():
        if "RotaryEmbedding" in type(sub).__name__ and hasattr(sub, "original_inv_freq"):
            fn = getattr(sub, f"compute_{sub.rope_type}_rope_parameters", None) or getattr(sub, "rope_init_fn", None)
            if fn is None:
                from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
                fn = ROPE_INIT_FUNCTIONS[sub.rope_type]
            value, _ = fn(sub.config)
            with torch.no_grad():
                sub.inv_freq.copy_(value)
                sub.original_inv_freq.copy_(value)


def materialize(module: nn.Module, device: torch.device | str, std: float = 0.02,
                weights: "WeightFiles | None" = None) -> None:
    """Allocate a meta-built (and possibly already sharded) module on `device`, each rank only its own shards,
    then fill it: from `weights` (pretrained safetensors, read tensor by tensor) where given, random elsewhere."""
    module.to_empty(device=device)
    init_buffers_(module)
    init_random_(module, std)
    if weights is not None:
        weights.load_into(module)


@torch.no_grad()
def copy_full_(target: torch.Tensor, full: torch.Tensor) -> None:
    """Copy a full tensor into a parameter: whole, or only this rank's shard of it when the parameter is a DTensor."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    full = full.to(dtype=target.dtype, device=target.device)
    if isinstance(target, DTensor):
        full = distribute_tensor(full, target.device_mesh, target.placements, src_data_rank=None).to_local()
        target = target.to_local()
    target.copy_(full)


def local_region(target: torch.Tensor) -> tuple[slice, ...] | None:
    """Where this rank's shard of a DTensor lies in the full tensor (one slice per dimension), for placements made of
    `Shard(d)` (torch.chunk's split: chunks of ceil(n / ranks), the last ones shorter or empty) and `Replicate`;
    None when the tensor is not a DTensor, is replicated everywhere, or has another placement (read it whole)."""
    from torch.distributed.tensor import DTensor, Replicate, Shard

    if not isinstance(target, DTensor):
        return None
    mesh, coordinate = target.device_mesh, target.device_mesh.get_coordinate()
    start, length = [0] * target.ndim, list(target.shape)
    sharded = False
    for mesh_dim, placement in enumerate(target.placements):
        if isinstance(placement, Replicate):
            continue
        if type(placement) is not Shard or coordinate is None:  # Partial, _StridedShard, ...: not sliced here
            return None
        d, ranks = placement.dim % target.ndim, mesh.size(mesh_dim)
        chunk = -(-length[d] // ranks)
        begin = min(coordinate[mesh_dim] * chunk, length[d])
        start[d], length[d] = start[d] + begin, min(chunk, length[d] - begin)
        sharded = True
    region = tuple(slice(b, b + n) for b, n in zip(start, length))
    if not sharded or tuple(length) != tuple(target.to_local().shape):
        return None
    return region


class WeightFiles:
    """The safetensors files of a checkpoint folder, loaded into a (sharded) module one tensor at a time: each rank
    reads only its shard of each sharded tensor (`get_slice`), so no rank reads or holds the whole model. `renames`
    map checkpoint names to module names (regex, replacement); LoRA `base_layer` wrappers are seen through; parameters
    the files lack must match `allow_missing` (e.g. LoRA weights, an added token) and keep their initialisation."""

    def __init__(self, folder: str | Path, renames: tuple[tuple[str, str], ...] = (),
                 allow_missing: str = r"lora_|reward_token|^head\.") -> None:
        self.folder = Path(folder)
        self.files = sorted(self.folder.glob("*.safetensors"))
        if not self.files:
            raise FileNotFoundError(f"no .safetensors files in {self.folder}")
        self.renames, self.allow_missing = renames, allow_missing
        self.bytes_read = 0  # tensor bytes read by `load_into` so far (a rank reads only its shards)

    def _name(self, key: str) -> str:
        for pattern, repl in self.renames:
            key = re.sub(pattern, repl, key)
        return key

    def index(self) -> dict[str, tuple[Path, str]]:
        """Module name -> (file, checkpoint key)."""
        from safetensors import safe_open

        out = {}
        for path in self.files:
            with safe_open(str(path), framework="pt") as f:
                out.update({self._name(k): (path, k) for k in f.keys()})
        return out

    def row(self, name: str, index: int) -> torch.Tensor | None:
        """One row of a 2-D tensor by its module name (e.g. an embedding's), read alone; None if absent."""
        from safetensors import safe_open

        found = self.index().get(name)
        if found is None:
            return None
        with safe_open(str(found[0]), framework="pt") as f:
            rows = f.get_slice(found[1])
            return rows[index:index + 1][0] if index < rows.get_shape()[0] else None

    @torch.no_grad()
    def load_into(self, module: nn.Module, prefix: str = "") -> None:
        """Copy every parameter (and persistent buffer) found in the files into `module`, shard by shard; weights the
        module needs and the files lack are named before anything is read."""
        from contextlib import ExitStack

        from safetensors import safe_open

        index = self.index()
        plan, missing = [], []
        for name, target in list(module.named_parameters()) + list(module.named_buffers()):
            key = prefix + name.replace(".base_layer.", ".")
            if key in index:
                plan.append((target, *index[key]))
            elif not re.search(self.allow_missing, name) and "inv_freq" not in name:
                missing.append(key)
        if missing:
            raise ValueError(f"{len(missing)} weights missing from {self.folder}: {missing[:5]}")
        with ExitStack() as stack:
            files = {path: stack.enter_context(safe_open(str(path), framework="pt")) for path in self.files}
            for target, path, file_key in plan:
                self._read_into(target, files[path], file_key, path)

    @torch.no_grad()
    def _read_into(self, target: torch.Tensor, file, key: str, path: Path) -> None:
        """One tensor into `target`: only this rank's shard of it is read when the target is a sharded DTensor
        (`get_slice`), the whole tensor otherwise; `bytes_read` counts what came off the file."""
        tensors = file.get_slice(key)
        if list(tensors.get_shape()) != list(target.shape):
            raise ValueError(f"{path}: {key} has shape {list(tensors.get_shape())}, the model expects "
                             f"{list(target.shape)}")
        region = local_region(target)
        if region is None:
            full = file.get_tensor(key)
            self.bytes_read += full.numel() * full.element_size()
            copy_full_(target, full)
            return
        local = target.to_local()
        if local.numel() == 0:
            return
        part = tensors[region]
        self.bytes_read += part.numel() * part.element_size()
        local.copy_(part.to(dtype=local.dtype, device=local.device))


def load_backbone_weights(backbone: nn.Module, folder: Path) -> None:
    """Load `folder/model` (saved with save_pretrained: a caption-pretraining export or a scorer) into the backbone."""
    path = Path(folder) / "model"
    if not path.is_dir() or not any(path.glob("*.safetensors")):
        raise FileNotFoundError(f"no weights to start from: {path} has no .safetensors files")
    saved = type(backbone.model).from_pretrained(path)
    missing, unexpected = backbone.model.load_state_dict(saved.state_dict(), strict=False)
    if missing or unexpected:
        raise ValueError(f"weights in {path} do not fit the backbone: missing {missing[:5]}, unexpected {unexpected[:5]}")


def local_checkpoint(name: str, patterns: list[str]) -> Path:
    """A checkpoint's local folder: `name` itself when it is a folder, else the hub snapshot of the files matching
    `patterns` (downloaded once into the cache; what `from_pretrained` would fetch)."""
    if Path(name).is_dir():
        return Path(name)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name, allow_patterns=patterns))


def build_on_meta(factory: Callable[[], nn.Module], dtype: torch.dtype | None = None) -> nn.Module:
    """`factory()` under the meta device (shapes only, no memory), cast to `dtype`."""
    with torch.device("meta"):
        module = factory()
    return module.to(dtype) if dtype is not None else module
