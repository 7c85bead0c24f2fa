"""Which parameters of a reward model train: LoRA (peft) on the language model, the vision tower, all, or the head."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from peft import LoraConfig, inject_adapter_in_model
from torch import nn

MODES = ("full", "lora", "head")


@dataclass
class TrainableParts:
    """What trains.

    Args:
        mode: "full" (every weight; the tiny default, which has nothing pretrained to adapt), "lora"
            (adapters on `lora_targets`; the default for real checkpoints) or "head" (head only).
        lora_r, lora_alpha, lora_dropout: LoRA rank, scale numerator and dropout (VideoAlign: 64, 128).
        lora_targets: regex of module names to adapt; None picks the backbone's language-model linears.
        train_vision: also train the vision tower and merger fully (VideoAlign found it helps).
        train_reward_token: train the added reward token's embedding (a parameter of its own).
    """

    mode: Literal["full", "lora", "head"] = "full"
    lora_r: int = 64
    lora_alpha: int = 128
    lora_dropout: float = 0.0
    lora_targets: str | None = None
    train_vision: bool = False
    train_reward_token: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    def lora_config(self, backbone: nn.Module) -> LoraConfig:
        """The peft config for this backbone."""
        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=self.lora_targets or backbone.lora_targets)  # the family's default


def vision_tower(backbone: nn.Module) -> nn.Module:
    """The vision tower (with merger) of a reward backbone (`RewardBackbone.vision_tower`)."""
    return backbone.vision_tower()


def inject_lora(parts: TrainableParts, backbone: nn.Module, key: str = "model.init_args.parts.lora_targets") -> None:
    """Add the LoRA adapters of `parts` to a backbone; targets that match no module fail in one line naming `key`."""
    config = parts.lora_config(backbone)
    try:
        inject_adapter_in_model(config, backbone.model)
    except ValueError as err:
        if "not found" not in str(err):
            raise
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in backbone.model.named_modules() if isinstance(m, nn.Linear)})
        raise ValueError(f"{key}={config.target_modules!r} matches no module of the backbone; its linear layers are "
                         f"named {linear[:16]}") from None


def apply_parts(reward_model: nn.Module, parts: TrainableParts) -> None:
    """Set requires_grad (and inject LoRA adapters) on a RewardModel according to `parts`."""
    backbone = reward_model.backbone
    if parts.mode == "lora":
        inject_lora(parts, backbone)
    for name, param in backbone.named_parameters():
        param.requires_grad = parts.mode == "full" or (parts.mode == "lora" and "lora_" in name)
    if parts.train_vision:
        for param in vision_tower(backbone).parameters():
            param.requires_grad = True
    reward_token = getattr(backbone, "reward_token", None)
    if reward_token is not None:
        reward_token.weight.requires_grad = parts.mode == "full" or parts.train_reward_token
    unused = tuple(getattr(backbone, "unused_by_reward", ()))
    for name, param in backbone.named_parameters():
        if name.startswith(unused):  # e.g. the LM head: scoring never reaches it (DDP needs every grad used)
            param.requires_grad = False
    for param in reward_model.head.parameters():
        param.requires_grad = True
