"""CaptionModule: backbone pretraining / caption fine-tuning on SpatialShapes renders (Lightning glue only).

A Qwen-VL backbone learns captions with its own LM head (the loss on each kind's answer words); a
CLIP-style backbone learns with its own contrastive loss. Caption kinds can be scheduled (a
curriculum). The export (`model/`, tokenizer, image processor) is what `RewardModule(init_from=...)`
starts from.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import nn

from modules.batches import connect_batches
from modules.distributed import ExportAtFitEnd, ShardedModel
from modules.optim import adamw_with_warmup
from zoo.dist.fsdp import ShardUnit
from zoo.reward.captions import ANSWERS, caption
from zoo.reward.scorer import export_backbone


def answer_token_ids(tokenizer, words) -> torch.Tensor:
    """Ids of the single tokens that spell each answer word (with and without a leading space)."""
    ids = set()
    for word in words:
        for text in (word, " " + word):
            pieces = tokenizer.encode(text, add_special_tokens=False)
            if len(pieces) == 1:
                ids.add(pieces[0])
    return torch.tensor(sorted(ids))


class CaptionModule(ShardedModel, ExportAtFitEnd, L.LightningModule):
    """Caption pretraining of a reward backbone.

    Args:
        backbone: QwenVLBackbone (LM loss) or CLIPBackbone (contrastive loss).
        captions: caption kind -> the step it starts at (a curriculum), e.g. {relations_colour: 0, verify: 300};
            each batch's examples are shared among the kinds active at that step.
        lr: AdamW learning rate (after warm-up).
        weight_decay: AdamW weight decay.
        warmup_steps: optimizer steps of linear learning-rate warm-up.
        export_dir: where to write the pretrained backbone when fitting ends.
        seed: seeds the caption sampling (object order, pair order, true/false clauses).
        activation_checkpointing: recompute transformer blocks in the backward pass.
        hybrid_shard: FSDP2 on a 2-D (replicate, shard) mesh: shard within each node, replicate across nodes.
        param_dtype: FSDP2 mixed precision ("bfloat16": weights gathered and computed in it, fp32 gradient
            reduction); None keeps each parameter's dtype.
    """

    def __init__(self, backbone: nn.Module, captions: dict[str, int] | None = None, lr: float = 1e-3,
                 weight_decay: float = 0.01, warmup_steps: int = 50, export_dir: str | None = None, seed: int = 0,
                 activation_checkpointing: bool = False, hybrid_shard: bool = False,
                 param_dtype: Literal["bfloat16", "float16", "float32"] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["backbone"])
        self.backbone = backbone
        self.captions = dict(captions or {"relations": 0})
        unknown = set(self.captions) - set(ANSWERS)
        if unknown:
            raise ValueError(f"unknown caption kinds {sorted(unknown)}; expected some of {sorted(ANSWERS)}")
        self._rng = random.Random(seed)
        token = getattr(backbone, "reward_token", None)
        if token is not None:  # not part of any caption; the reward stage trains it
            token.weight.requires_grad = False
        tokenizer = getattr(backbone.inputs, "tokenizer", None)
        self._answers = {k: answer_token_ids(getattr(tokenizer, "tokenizer", tokenizer), w)
                         for k, w in ANSWERS.items() if w is not None and tokenizer is not None}

    def setup(self, stage: str) -> None:
        connect_batches(self.trainer, list)  # raw samples: captions depend on the step (curriculum)

    def shard_units(self) -> list[ShardUnit]:
        """Each transformer block of the backbone, then the modules its forward calls."""
        return [ShardUnit(self.backbone.decoder_layers(), self.backbone.fsdp_roots())]

    def materialize_weights(self, device: torch.device) -> None:
        if hasattr(self.backbone, "materialize"):
            self.backbone.materialize(device)

    def active_kinds(self, step: int) -> list[str]:
        """Caption kinds in use at a training step."""
        return [k for k, start in self.captions.items() if step >= start]

    def _loss(self, samples: list[dict[str, Any]], step: int) -> tuple[torch.Tensor, dict[str, float]]:
        kinds = self.active_kinds(step)
        texts, images, kind_of = [], [], []
        for i, sample in enumerate(samples):
            side = "chosen" if self._rng.random() < 0.5 else "rejected"
            kind = kinds[i % len(kinds)]
            texts.append(caption(sample["meta"], side, kind, self._rng))
            images.append(sample[side])
            kind_of.append(kind)
        batch = {k: v.to(self.device) for k, v in self.backbone.inputs(texts, images).items()}
        ids = batch["input_ids"]
        labels = torch.where(batch["prompt_mask"].bool(), ids, torch.full_like(ids, -100))
        for row, kind in enumerate(kind_of):
            if kind in self._answers:  # the loss on the answer words only
                keep = torch.isin(ids[row], self._answers[kind].to(ids.device))
                labels[row] = torch.where(keep, labels[row], torch.full_like(ids[row], -100))
        loss = self.backbone.caption_loss(batch, labels)
        return loss, {"kinds": float(len(kinds))}

    def training_step(self, samples: list[dict[str, Any]], batch_idx: int) -> torch.Tensor:
        loss, info = self._loss(samples, self.global_step)
        self.log_dict({"caption/loss": loss, "caption/kinds": info["kinds"]}, prog_bar=True, batch_size=len(samples))
        return loss

    def validation_step(self, samples: list[dict[str, Any]], batch_idx: int) -> None:
        loss, _ = self._loss(samples, self.global_step)
        self.log("caption/val_loss", loss, batch_size=len(samples), sync_dist=True)

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_with_warmup(self.backbone.named_parameters(), hp.lr, hp.weight_decay, hp.warmup_steps)

    exported = "pretrained backbone"

    def export_model(self) -> nn.Module:
        return self.backbone

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """The backbone's `model/` weights and settings (`zoo.reward.scorer.export_backbone`)."""
        return export_backbone(self.backbone, folder, state)
