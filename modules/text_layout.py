"""TextLayoutModule: pretrains a tiny policy's T5 encoder on the world's captions with a per-word layout objective
(Lightning glue; the maths is in zoo.policy.text_layout)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import lightning as L
import torch

from modules.batches import connect_batches
from modules.distributed import ExportAtFitEnd
from modules.optim import adamw_with_warmup
from zoo.data.records import RecordError
from zoo.data.stream import stamp_errors
from zoo.policy.base import frozen_init
from zoo.policy.flux import TinyFlux, tiny_t5, tiny_tokenizer
from zoo.policy.text_layout import LayoutHead, LayoutTargets, layout_loss, layout_targets


class LayoutCollator:
    """Pair samples -> tokenised captions with layout targets: the chosen image's prompt and boxes and, with
    `both_sides`, the perturbed prompt with the rejected image's boxes (a true caption of it)."""

    def __init__(self, tokenizer, grid: int, max_length: int, both_sides: bool = True) -> None:
        self.tokenizer, self.grid, self.max_length, self.both_sides = tokenizer, grid, max_length, both_sides

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        prompts, scenes, boxes, sizes = [], [], [], []
        for s in samples:
            meta = s["meta"]
            sides = [(s["prompt"], "chosen_boxes")]
            if self.both_sides and "perturbed_prompt" in meta:
                sides.append((meta["perturbed_prompt"], "rejected_boxes"))
            for prompt, key in sides:
                if key not in meta or "objects" not in meta:
                    raise RecordError(f"sample {s.get('key')}: layout pretraining needs world records with 'objects' "
                                      f"and '{key}' (SpatialShapes pairs from `zoo data spatial`)")
                prompts.append(prompt)
                scenes.append(meta)
                boxes.append(meta[key])
                sizes.append(int(meta.get("image_size", 64)))
        targets = layout_targets(self.tokenizer, prompts, scenes, boxes, sizes, self.grid, self.max_length)
        return {**{f.name: getattr(targets, f.name) for f in fields(LayoutTargets)}, "data_errors": stamp_errors(samples)}


def as_targets(batch: dict[str, Any]) -> LayoutTargets:
    """The LayoutTargets of a collated batch."""
    return LayoutTargets(**{f.name: batch[f.name] for f in fields(LayoutTargets)})


class TextLayoutModule(ExportAtFitEnd, L.LightningModule):
    """Train a tiny policy's T5 encoder so that each object word's state tells the object's colour, shape and the
    `grid` x `grid` cell of its box centre (linear read-outs, cross-entropy); the export is a T5EncoderModel folder
    for the policy's `tiny.t5_from`, which keeps it frozen.

    Args:
        tiny: the policy's tiny options (its `tiny:` block): the encoder gets its width, depth, sequence length
            and starting seed, so the export fits the policy.
        grid: cells per side of the position target.
        lr: AdamW learning rate (after warm-up), decayed on a cosine to a tenth.
        weight_decay: AdamW weight decay (not on biases, norms and embeddings).
        dropout: T5's dropout while pretraining (its config's 0.1 is replaced; the policy uses the encoder frozen, in
            eval mode). The layout is learned in a late drop of the loss (cell cross-entropy about 2.23 -> 1.75);
            with dropout 0.1 at lr 6e-3 it had not come after 1500 steps in 3 of 4 runs, without dropout it had
            come in 2 of 3 and was under way in the third (benchmarks/runs/sft_tiny_policy_search).
        warmup_steps: optimizer steps of linear learning-rate warm-up.
        both_sides: also learn each pair's perturbed prompt with the rejected image's layout.
        export_dir: where the trained encoder goes (save_pretrained, safetensors).
    """

    def __init__(self, tiny: dict[str, Any] | None = None, grid: int = 4, lr: float = 2e-3, weight_decay: float = 0.01,
                 dropout: float = 0.0, warmup_steps: int = 50, both_sides: bool = True,
                 export_dir: str | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        known = set(TinyFlux.__dataclass_fields__)
        unknown = sorted(set(tiny or {}) - known)
        if unknown:
            raise ValueError(f"tiny: unknown option(s) {unknown}; TinyFlux has {sorted(known)}")
        self.tiny = TinyFlux(**(tiny or {}))
        if self.tiny.t5_from:
            raise ValueError("tiny.t5_from: the layout pretraining starts from the random encoder; leave it unset here")
        self.tokenizer = tiny_tokenizer(self.tiny.max_sequence_length)
        with frozen_init(self.tiny.frozen_seed):
            self.encoder = tiny_t5(self.tiny, self.tokenizer)
        for module in self.encoder.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = dropout
        self.head = LayoutHead(self.tiny.text_dim, grid)

    def setup(self, stage: str) -> None:
        connect_batches(self.trainer, LayoutCollator(self.tokenizer, self.hparams.grid, self.tiny.max_sequence_length,
                                                     self.hparams.both_sides))

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss, metrics = layout_loss(self.encoder, self.head, as_targets(batch))
        size = len(batch["input_ids"])
        self.log("layout/loss", loss, prog_bar=True, batch_size=size)
        self.log_dict({f"layout/{k}": v for k, v in metrics.items()}, batch_size=size)
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        loss, metrics = layout_loss(self.encoder, self.head, as_targets(batch))
        size = len(batch["input_ids"])
        self.log("val/layout_loss", loss, prog_bar=True, batch_size=size)
        self.log_dict({f"val/{k}": v for k, v in metrics.items()}, prog_bar=True, batch_size=size)

    def configure_optimizers(self):
        hp = self.hparams
        params = [*self.encoder.named_parameters(), *(("head." + n, p) for n, p in self.head.named_parameters())]
        return adamw_with_warmup(params, hp.lr, hp.weight_decay, hp.warmup_steps, cosine_steps=self.trainer.max_steps,
                                 min_lr_ratio=0.1)

    exported = "layout-pretrained T5 encoder"

    def export_model(self) -> torch.nn.Module:
        return self.encoder

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """The encoder alone (transformers' save_pretrained): the read-out head is not part of the policy."""
        self.encoder.save_pretrained(folder, safe_serialization=True)
        return folder
