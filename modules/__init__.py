"""LightningModules (Lightning glue only): reward training, caption pretraining, flow-matching SFT, GRPO."""

from modules.caption import CaptionModule
from modules.flow_matching import FlowMatchingModule
from modules.grpo import GRPOModule
from modules.reward import RewardModule

__all__ = ["CaptionModule", "FlowMatchingModule", "GRPOModule", "RewardModule"]
