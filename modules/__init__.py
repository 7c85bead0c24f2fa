"""LightningModules (Lightning glue only): reward training, caption, autoencoder and text-layout pretraining, flow-matching SFT,
and the online RL algorithms on one base (modules/rl.py): Flow-GRPO (with its Fast and DanceGRPO variants as
options) and DiffusionNFT."""

from modules.autoencoder import AutoencoderModule
from modules.caption import CaptionModule
from modules.flow_matching import FlowMatchingModule
from modules.grpo import GRPOModule
from modules.nft import DiffusionNFTModule
from modules.reward import RewardModule
from modules.text_layout import TextLayoutModule

__all__ = ["AutoencoderModule", "CaptionModule", "DiffusionNFTModule", "FlowMatchingModule", "GRPOModule",
           "RewardModule", "TextLayoutModule"]
