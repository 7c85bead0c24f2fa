"""The module-datamodule handshake: a module gives its collation through the datamodule's `connect`, once."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from datamodules import PreferencePairDataModule
from modules.flow_matching import FlowMatchingModule, ImageCaptionCollator

from zoo.policy.flux import FluxPolicy, TinyFlux


class NoConnect(L.LightningDataModule):
    """A datamodule that cannot take a module's collation."""

    def train_dataloader(self):
        return torch.utils.data.DataLoader([0])


def _module() -> FlowMatchingModule:
    return FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1)))


def test_a_module_connects_its_collation_to_the_datamodule(spatial_set, tmp_path):
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=2,
                                    train_samples_per_epoch=4)
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(_module(), datamodule=data)
    assert isinstance(data.collate_fn, ImageCaptionCollator) and data.train_collate_fn is None


def test_a_datamodule_without_connect_is_named(tmp_path):
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False, default_root_dir=tmp_path)
    with pytest.raises(TypeError, match="NoConnect cannot take this module's batches"):
        trainer.fit(_module(), datamodule=NoConnect())
