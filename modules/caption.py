"""CaptionModule: backbone pretraining / caption fine-tuning on SpatialShapes renders (Lightning glue only).

A Qwen-VL backbone learns captions with its own LM head; a CLIP-style backbone with its own
contrastive loss. The export (`model/`, tokenizer, image processor) is what `RewardModule(init_from=...)`
starts from.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.strategies import ModelParallelStrategy
from torch import nn

from modules.optim import adamw_with_warmup
from zoo.data.stream import stamp_errors
from zoo.reward.captions import caption
from zoo.reward.scorer import export_backbone
from zoo.reward.sharding import full_state_dict, shard_backbone


class CaptionCollator:
    """Pair samples -> (image, caption) examples from both sides of each pair, with LM labels on the caption."""

    def __init__(self, inputs, kind: str, seed: int = 0) -> None:
        self.inputs, self.kind, self.seed = inputs, kind, seed

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}/{samples[0]['key'] if samples else ''}")
        texts, images = [], []
        for sample in samples:
            for side in ("chosen", "rejected"):
                texts.append(caption(sample["meta"], side, self.kind, rng))
                images.append(sample[side])
        batch = self.inputs(texts, images)
        labels = torch.where(batch["prompt_mask"].bool(), batch["input_ids"], torch.full_like(batch["input_ids"], -100))
        return {"inputs": batch, "labels": labels, "key": [s["key"] for s in samples],
                "data_errors": stamp_errors(samples)}


class CaptionModule(L.LightningModule):
    """Caption pretraining of a reward backbone.

    Args:
        backbone: QwenVLBackbone (LM loss on caption tokens) or CLIPBackbone (contrastive loss).
        caption: "relations" (default), "grounded" or "prompt" (see zoo.reward.captions).
        lr, weight_decay, warmup_steps: AdamW with linear warm-up.
        export_dir: where to write the pretrained backbone when fitting ends.
        seed: seeds the caption sampling (object order, pair order).
    """

    def __init__(self, backbone: nn.Module, caption: str = "relations", lr: float = 1e-3, weight_decay: float = 0.01,
                 warmup_steps: int = 50, export_dir: str | None = None, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["backbone"])
        self.backbone = backbone
        token = getattr(backbone, "reward_token", None)
        if token is not None:  # not part of any caption; the reward stage trains it
            token.weight.requires_grad = False

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None and hasattr(datamodule, "collate_fn"):
            datamodule.collate_fn = CaptionCollator(self.backbone.inputs, self.hparams.caption, self.hparams.seed)

    def configure_model(self) -> None:
        if isinstance(self.trainer.strategy, ModelParallelStrategy):
            shard_backbone(self.backbone, self.device_mesh)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self.backbone.caption_loss(batch["inputs"], batch["labels"])
        self.log("caption/loss", loss, prog_bar=True, batch_size=batch["labels"].shape[0])
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        loss = self.backbone.caption_loss(batch["inputs"], batch["labels"])
        self.log("caption/val_loss", loss, prog_bar=True, batch_size=batch["labels"].shape[0], sync_dist=True)

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_with_warmup(self.backbone.named_parameters(), hp.lr, hp.weight_decay, hp.warmup_steps)

    def on_fit_end(self) -> None:
        if self.hparams.export_dir:
            state = full_state_dict(self.backbone)
            if self.trainer.is_global_zero:
                export_backbone(self.backbone, Path(self.hparams.export_dir), state)
