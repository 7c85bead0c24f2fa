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


def test_the_collator_names_each_side_of_a_pair_the_others_partner():
    from PIL import Image

    image = Image.new("RGB", (8, 8), "white")
    pair = {"prompt": "a", "chosen": image, "rejected": image, "meta": {"perturbed_prompt": "b"}}
    single = {"prompt": "c", "chosen": image, "rejected": image, "meta": {}}
    batch = ImageCaptionCollator(both_sides=True)([pair, single, pair])
    assert batch["prompt"] == ["a", "b", "c", "a", "b"] and batch["partner"] == [1, 0, -1, 4, 3]
    with pytest.raises(ValueError, match="contrastive_negative"):
        FlowMatchingModule(torch.nn.Linear(1, 1), contrastive_negative="pair", both_sides=False)
