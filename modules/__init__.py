"""LightningModules (Lightning glue only): reward training, caption and autoencoder pretraining, flow-matching SFT,
GRPO."""

from modules.autoencoder import AutoencoderModule
from modules.caption import CaptionModule
from modules.flow_matching import FlowMatchingModule
from modules.grpo import GRPOModule
from modules.reward import RewardModule

__all__ = ["AutoencoderModule", "CaptionModule", "FlowMatchingModule", "GRPOModule", "RewardModule"]
