"""LightningDataModules that stream preference-pair and prompt shards."""

from datamodules.pairs import PreferencePairDataModule
from datamodules.prompts import PromptDataModule

__all__ = ["PreferencePairDataModule", "PromptDataModule"]
