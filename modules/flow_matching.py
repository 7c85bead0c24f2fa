"""FlowMatchingModule: supervised flow-matching fine-tuning of a policy on (prompt, image) pairs (Lightning glue)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from PIL import Image
from torch import nn

from modules.batches import connect_batches
from modules.checkpointing import TrainableCheckpoint
from modules.distributed import ExportAtFitEnd, ShardedModel
from modules.image_logging import log_image
from modules.optim import adamw_with_warmup
from modules.weights import WeightScopes
from zoo.bench.spatialbench import verdict_means, verify_images
from zoo.data.stream import stamp_errors
from zoo.dist.fsdp import ShardUnit
from zoo.images import image_grid


class ImageCaptionCollator:
    """Pair samples -> (prompt, image) examples: the chosen image with its prompt and, when asked,
    the rejected image with the perturbed prompt (also a true caption of it), resized to `size`."""

    def __init__(self, both_sides: bool = True, size: int | None = None) -> None:
        self.both_sides, self.size = both_sides, size

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        prompts, images, metas, partners = [], [], [], []
        for s in samples:
            sides = [("chosen", s["prompt"])]
            if self.both_sides and "perturbed_prompt" in s["meta"]:
                sides.append(("rejected", s["meta"]["perturbed_prompt"]))
            first = len(prompts)
            partners += [first + 1, first] if len(sides) == 2 else [-1]
            for side, prompt in sides:
                prompts.append(prompt)
                image = s[side].convert("RGB")
                if self.size and image.size != (self.size, self.size):  # box filter: area-weighted, like a camera
                    image = image.resize((self.size, self.size), Image.BOX)
                images.append(torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255)
                relations = s["meta"].get("perturbed_relations") if side == "rejected" else s["meta"].get("relations")
                metas.append({**s["meta"], "relations": relations} if relations is not None else s["meta"])
        return {"prompt": prompts, "image": torch.stack(images), "meta": metas, "partner": partners,
                "data_errors": stamp_errors(samples)}


def drain(buffer: list[tuple[torch.Tensor, list[dict]]]) -> tuple[torch.Tensor, list[dict]]:
    """The images and metas a validation epoch collected, concatenated; the buffer is emptied."""
    images = torch.cat([i for i, _ in buffer])
    metas = [m for _, ms in buffer for m in ms]
    buffer.clear()
    return images, metas


def verified(images: torch.Tensor, metas: list[dict[str, Any]]) -> dict[str, float]:
    """World-v1 verdicts of generated images: mean relation score, all relations right, objects found, shapes."""
    return verdict_means(verify_images(images, metas))


class FlowMatchingModule(TrainableCheckpoint, WeightScopes, ShardedModel, ExportAtFitEnd, L.LightningModule):
    """Flow-matching SFT of a text-to-image policy; validation generates, verifies (world v1.1) and logs images.
    With an EMA callback on, validation and the export use the averaged weights.

    Args:
        policy: a policy (FluxPolicy, ...), LoRA or full as configured there.
        lr: AdamW learning rate (after warm-up).
        weight_decay: AdamW weight decay.
        warmup_steps: optimizer steps of linear learning-rate warm-up; then constant, or a cosine decay with `cosine`.
        cosine: decay the learning rate on a cosine to `min_lr_ratio * lr` at the trainer's max_steps.
        min_lr_ratio: the cosine decay's final learning rate, as a fraction of lr.
        both_sides: also learn the rejected image of each pair with its perturbed prompt.
        val_steps: sampling steps of the validation images.
        val_images: how many validation images to generate per epoch.
        export_dir: where to write the trained transformer (or LoRA) when fitting ends.
        timesteps: training noise levels, "logit_normal" (SD3/Flux) or "uniform".
        logit_mean: the logit-normal's mean (0 for SD3/Flux; > 0 trains more at high noise levels).
        weighting: "velocity" (the rectified-flow MSE on the velocity) or "x0" (the MSE of the implied clean image).
        contrastive: Delta-FM's weight on the error against another sample's flow, subtracted (0 = plain).
        contrastive_negative: that other flow: "batch" (the next sample's, as Delta-FM) or "pair" (from the same
            noise to the other image of the sample's preference pair: a hard negative that differs only in where the
            objects are; needs both_sides).
        prompt_dropout: fraction of captions replaced by the empty prompt, so that CFG has an unconditional branch.
        activation_checkpointing: recompute the transformer's blocks in the backward pass.
        hybrid_shard: FSDP2 on a 2-D (replicate, shard) mesh: shard within each node, replicate across nodes.
        param_dtype: FSDP2 mixed precision ("bfloat16": weights gathered and computed in it, fp32 gradient
            reduction); None keeps each parameter's dtype.
    """

    def __init__(self, policy: nn.Module, lr: float = 1e-3, weight_decay: float = 0.0, warmup_steps: int = 50,
                 both_sides: bool = True, val_steps: int = 8, val_images: int = 64, export_dir: str | None = None,
                 timesteps: Literal["logit_normal", "uniform"] = "logit_normal", prompt_dropout: float = 0.0,
                 cosine: bool = False,
                 logit_mean: float = 0.0, weighting: Literal["velocity", "x0"] = "velocity", contrastive: float = 0.0,
                 contrastive_negative: Literal["batch", "pair"] = "batch",
                 min_lr_ratio: float = 0.1, activation_checkpointing: bool = False, hybrid_shard: bool = False,
                 param_dtype: Literal["bfloat16", "float16", "float32"] | None = None) -> None:
        super().__init__()
        if contrastive_negative not in ("batch", "pair") or (contrastive_negative == "pair" and not both_sides):
            raise ValueError(f"contrastive_negative must be 'batch' or 'pair' (with both_sides), got "
                             f"{contrastive_negative!r} with both_sides={both_sides}")
        self.save_hyperparameters(ignore=["policy"])
        self.policy = policy
        self.weight_scopes: list = []  # e.g. the EMA callback's swap-in
        self._val: list[tuple[torch.Tensor, list[dict]]] = []

    def setup(self, stage: str) -> None:
        resolution = getattr(self.policy, "resolution", None)
        connect_batches(self.trainer, ImageCaptionCollator(self.hparams.both_sides, resolution))

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(int(self.global_step) * 7919 + batch_idx)
        loss = self.policy.flow_matching_loss(batch["image"], batch["prompt"], gen, self.hparams.timesteps,
                                              self.hparams.prompt_dropout, self.hparams.logit_mean,
                                              self.hparams.weighting, self.hparams.contrastive,
                                              batch.get("partner") if self.hparams.contrastive_negative == "pair"
                                              else None)
        self.log("sft/loss", loss, prog_bar=True, batch_size=len(batch["prompt"]))
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        done = sum(len(m) for _, m in self._val)
        take = min(len(batch["prompt"]), self.hparams.val_images - done)
        if take <= 0:
            return
        seeds = [zlib.crc32(p.encode()) for p in batch["prompt"][:take]]  # stable across processes, unlike hash()
        with self.ema_scope():
            images, _ = self.policy.generate(batch["prompt"][:take], seeds, steps=self.hparams.val_steps)
        self._val.append((images.cpu(), batch["meta"][:take]))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        images, metas = drain(self._val)
        if all("objects" in m for m in metas):
            scores = verified(images, metas)
            self.log_dict({f"val/{k}": v for k, v in scores.items()}, prog_bar=True)
        log_image(self.loggers, "val/samples", image_grid(images[:32]), self.global_step)

    def configure_optimizers(self):
        hp = self.hparams
        total = self.trainer.max_steps if self.trainer.max_steps > 0 else int(self.trainer.estimated_stepping_batches)
        return adamw_with_warmup(self.policy.named_parameters(), hp.lr, hp.weight_decay, hp.warmup_steps,
                                 cosine_steps=total if hp.cosine else None, min_lr_ratio=hp.min_lr_ratio)

    # distributed and export ------------------------------------------------------------------------
    def shard_units(self) -> list[ShardUnit]:
        """The policy transformer's blocks, then the transformer."""
        return [ShardUnit(self.policy.blocks(), [self.policy.transformer])]

    def materialize_weights(self, device: torch.device) -> None:
        self.policy.materialize(device)

    exported = "policy"

    def export_model(self) -> nn.Module:
        return self.policy.transformer

    def export_scope(self):
        return self.ema_scope()  # EMA weights when an EMA callback is on

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """The policy (`FlowPolicy.save`)."""
        return self.policy.save(folder, state)
