"""LightningModules (Lightning glue only): reward training, caption pretraining; SFT and GRPO later."""

from modules.caption import CaptionModule
from modules.reward import RewardModule

__all__ = ["CaptionModule", "RewardModule"]
