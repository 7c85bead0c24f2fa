"""The reward-backbone protocol and its registry: a new backbone family is one file with a `@register_backbone`
subclass of `RewardBackbone` (plus its configs and tests); scorer folders, `RewardModule`, FSDP2 sharding and
`zoo reward table --untrained` reach it through this protocol only, never by class name.

What a family provides (the dispatch points that call it):
- build: `__init__` (tiny from a config when `pretrained` is None, else from a checkpoint), chosen in YAML by
  class_path; `rebuild()` for a fresh copy (export of gathered FSDP2 shards);
- settings round-trip: `settings()` is scorer.json's "backbone" object, `settings_fields` validates it on load,
  `from_settings(...)` rebuilds the backbone from it (`zoo.reward.scorer`);
- shard units: `decoder_layers()` (the blocks) and `fsdp_roots()` (units of `zoo.dist.fsdp.apply_fsdp`);
- checkpoint renames: `checkpoint_renames`, checkpoint names -> module names for meta-built backbones filled from
  safetensors (`start_from`, `RewardModule(init_from=...)`);
- head init: `head_init()`, the linear head's initial weight (None: the head's default);
- untrained floors: `untrained_names` and `untrained(name)` (`zoo reward table --untrained NAME`);
- trainable parts: `lora_targets` (the default LoRA target regex) and `vision_tower()` (`zoo.reward.parts`).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from zoo.dist.weights import WeightFiles, copy_full_, has_meta, load_backbone_weights, materialize
from zoo.settings import Field

REGISTRY: dict[str, type["RewardBackbone"]] = {}  # scorer.json "class" -> backbone class


class RewardTokenEmbedding(nn.Module):
    """An added reward token's embedding, written over the token embedding's output at its positions (a module of
    its own: it trains alone under LoRA or frozen embeddings, and shards with FSDP2 like any other unit)."""

    def __init__(self, row: torch.Tensor, token_id: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(row)
        self.token_id = token_id

    def forward(self, input_ids: torch.Tensor, embeds: torch.Tensor) -> torch.Tensor:
        at_token = (input_ids == self.token_id).unsqueeze(-1)
        return torch.where(at_token, self.weight.to(embeds.dtype), embeds)


def load_tokenizer(path: str, extra_specials: tuple[str, ...] = (), trust_remote_code: bool = False):
    """A checkpoint's (or a scorer folder's) tokenizer, with `extra_specials` (e.g. a reward token) added if absent."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    missing = [t for t in extra_specials if tokenizer.convert_tokens_to_ids(t) in (None, tokenizer.unk_token_id)]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
    return tokenizer


class RewardBackbone(nn.Module):
    """Base of reward backbones: embeds (image, prompt) pairs into one vector each for a reward head.

    Subclasses set `model` (the transformers model), `inputs` (a picklable (prompts, images) -> tensors encoder
    with `tokenizer`, `image_processor` and a `truncated` count), `pretrained`, `init_kwargs` (their own
    constructor arguments, for `rebuild`), `reward_token` (an added token's embedding module, or None) and
    `weights` (a `WeightFiles` a meta-built backbone is filled from, or None), and implement `hidden_size`, `forward`, `caption_loss`,
    `decoder_layers`, `fsdp_roots` and `settings`.
    """

    settings_fields: ClassVar[dict[str, Field]] = {}  # scorer.json backbone keys besides "class" and "pretrained"
    checkpoint_renames: ClassVar[tuple[tuple[str, str], ...]] = ()  # (regex, replacement) on checkpoint names
    unused_by_reward: ClassVar[tuple[str, ...]] = ()  # parameter-name prefixes the reward never uses (frozen)
    untrained_names: ClassVar[tuple[str, ...]] = ()  # names `untrained` builds
    lora_targets: ClassVar[str] = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
    tensor_images: ClassVar[bool] = False  # `inputs` also takes a (B, 3, H, W) tensor batch on its device

    @property
    def hidden_size(self) -> int:
        """Width of the pooled vector."""
        raise NotImplementedError

    def caption_loss(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        """The backbone's own pretraining loss on (image, caption) pairs."""
        raise NotImplementedError(f"{type(self).__name__} has no caption loss")

    def decoder_layers(self) -> list[nn.Module]:
        """Transformer blocks (units for FSDP2 and activation checkpointing)."""
        raise NotImplementedError

    def fsdp_roots(self) -> list[nn.Module]:
        """Modules whose forward is called, sharded after the blocks, in order."""
        raise NotImplementedError

    def vision_tower(self) -> nn.Module:
        """The vision tower with its merger/projection (what `TrainableParts.train_vision` trains)."""
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """What scorer.json stores of this backbone ("class" and "pretrained" are added by `export_settings`)."""
        raise NotImplementedError

    def export_settings(self) -> dict[str, Any]:
        """scorer.json's "backbone" object: the registered class name, the settings, the base checkpoint."""
        return {"class": type(self).__name__, **self.settings(), "pretrained": self.pretrained}

    @classmethod
    def from_settings(cls, settings: dict[str, Any], weights: str, tokenizer_path: str, image_processor_path: str,
                      trust_remote_code: bool = False) -> "RewardBackbone":
        """The backbone of a scorer folder: its settings (validated), weights at `weights`, saved tokenizer and
        image processor."""
        return cls(**settings, pretrained=weights, tokenizer_path=tokenizer_path,
                   image_processor_path=image_processor_path, trust_remote_code=trust_remote_code)

    @classmethod
    def untrained(cls, name: str) -> "RewardBackbone":
        """A tiny randomly initialised backbone named `name` (one of `untrained_names`)."""
        raise NotImplementedError

    def head_init(self) -> float | None:
        """Initial weight of every entry of a linear head (None: the head's own default)."""
        return None

    def start_from(self, folder: str | Path) -> None:
        """Start from `folder/model` (a caption-pretraining export or a scorer): loaded now, or, for a meta-built
        backbone, read shard by shard when it materialises (through `checkpoint_renames`)."""
        if has_meta(self):
            self.weights = WeightFiles(Path(folder) / "model", self.checkpoint_renames)
        else:
            load_backbone_weights(self, Path(folder))

    def attach_reward_token(self, token_id: int | None) -> None:
        """`reward_token`: the token's embedding row as a module of its own, applied by a hook on the token
        embedding (None when `token_id` is None)."""
        self.reward_token = None
        if token_id is not None:
            row = self.model.get_input_embeddings().weight[token_id].detach().clone().float()
            self.reward_token = RewardTokenEmbedding(row, token_id)
            self.model.get_input_embeddings().register_forward_hook(
                lambda module, args, out: self.reward_token(args[0], out))

    def materialize(self, device: torch.device | str) -> None:
        """Allocate a meta-built model on `device` (after sharding: only this rank's shards) and fill it from
        `weights`, or randomly (the reward token's row: the embedding's own, else N(0, 0.02)); a no-op for a
        backbone that has its weights."""
        if not has_meta(self):
            return
        materialize(self.model, device, getattr(self.model.config, "initializer_range", 0.02), self.weights)
        token = getattr(self, "reward_token", None)
        if token is not None:
            embed = next(n for n, m in self.model.named_modules() if m is self.model.get_input_embeddings())
            row = self.weights.row(f"{embed}.weight", token.token_id) if self.weights else None
            token.to_empty(device=device)
            copy_full_(token.weight, torch.randn(token.weight.shape) * 0.02 if row is None else row)

    def rebuild(self) -> "RewardBackbone":
        """A new backbone with the same settings (fresh weights), e.g. to export gathered FSDP2 shards."""
        return type(self)(**{**self.init_kwargs, **({"init_device": None} if "init_device" in self.init_kwargs
                                                     else {})})


def register_backbone(cls: type[RewardBackbone]) -> type[RewardBackbone]:
    """Class decorator: register a reward backbone under its class name (scorer.json's "class")."""
    if not (isinstance(cls, type) and issubclass(cls, RewardBackbone)):
        raise TypeError(f"{cls!r} is not a RewardBackbone subclass")
    known = REGISTRY.get(cls.__name__)
    if known is not None and known.__module__ != cls.__module__:
        raise ValueError(f"reward backbone {cls.__name__!r} is registered twice ({known.__module__}, {cls.__module__})")
    REGISTRY[cls.__name__] = cls
    return cls


def discover() -> dict[str, type[RewardBackbone]]:
    """Import every module of `zoo.reward` that registers a backbone (so each family registers itself), once."""
    if not getattr(discover, "done", False):
        package = Path(__file__).parent
        for info in pkgutil.iter_modules([str(package)]):
            source = package / f"{info.name}.py"
            if source.is_file() and "\n@register_backbone" in source.read_text(encoding="utf-8"):
                importlib.import_module(f"zoo.reward.{info.name}")
        discover.done = True
    return REGISTRY


def get_backbone_class(name: str) -> type[RewardBackbone]:
    """The registered backbone class named `name` (scorer.json's "class"), or a dotted path `module.Class`."""
    if "." in name:
        module, _, attr = name.rpartition(".")
        importlib.import_module(module)
        name = attr
    registry = discover()
    if name not in registry:
        raise ValueError(f"unknown reward backbone {name!r}; registered: {sorted(registry)}")
    return registry[name]


def untrained_names() -> dict[str, type[RewardBackbone]]:
    """Every name `untrained_backbone` takes -> the backbone class that builds it."""
    return {n: cls for cls in discover().values() for n in cls.untrained_names}


def untrained_backbone(name: str) -> RewardBackbone:
    """A tiny untrained backbone by name ("qwen2_5_vl", "clip", ...), for `zoo reward table --untrained`."""
    names = untrained_names()
    if name not in names:
        raise ValueError(f"unknown untrained backbone {name!r}; expected one of {sorted(names)}")
    return names[name].untrained(name)
