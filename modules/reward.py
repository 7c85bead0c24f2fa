"""RewardModule: trains a SpatialScore reward model on preference pairs (Lightning glue only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Literal

import lightning as L
import torch
from torch import nn

from modules.batches import connect_batches
from modules.checkpointing import TrainableCheckpoint
from modules.distributed import ExportAtFitEnd, ShardedModel
from modules.optim import adamw_with_warmup
from zoo.data.stream import stamp_errors
from zoo.dist.fsdp import ShardUnit
from zoo.reward.backbones import RewardBackbone
from zoo.reward.heads import mean_score
from zoo.reward.losses import BradleyTerry
from zoo.reward.metrics import BUCKETS, PairwiseAccuracy, format_table
from zoo.reward.model import RewardModel
from zoo.reward.negatives import HardNegatives
from zoo.reward.parts import TrainableParts, apply_parts
from zoo.reward.scorer import export_scorer
torch.serialization.add_safe_globals([TrainableParts])  # in the hyperparameters: checkpoints load with weights_only


class PairCollator:
    """Pair samples -> one model batch of 2B sequences (chosen first, then rejected)."""

    def __init__(self, inputs, negatives: Callable[[list[dict]], list[dict]] | None = None) -> None:
        self.inputs, self.negatives = inputs, negatives

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        if self.negatives is not None:
            samples = self.negatives(samples)
        prompts = [s["prompt"] for s in samples]
        images = [s["chosen"] for s in samples] + [s["rejected"] for s in samples]
        before = self.inputs.truncated
        batch = self.inputs(prompts + prompts, images)
        return {"inputs": batch, "n_perturbations": torch.tensor([s["n_perturbations"] for s in samples]),
                "tie": torch.tensor([bool(s["meta"].get("tie", False)) for s in samples]),
                "key": [s["key"] for s in samples], "truncated": self.inputs.truncated - before,
                "data_errors": stamp_errors(samples)}


class RewardModule(TrainableCheckpoint, ShardedModel, ExportAtFitEnd, L.LightningModule):
    """SpatialScore training: backbone + head scored on chosen and rejected, a preference loss, and
    pairwise accuracy by perturbation bucket. Checkpoints hold the trainable weights only (with LoRA, the frozen
    backbone is rebuilt from the config on resume).

    Args:
        backbone: a registered reward backbone (`zoo.reward.backbones`: QwenVLBackbone, CLIPBackbone, ...), chosen
            in YAML by class_path.
        head: "linear" (one score) or "mlp" ((mu, log sigma) for UncertaintyLoss).
        loss: BradleyTerry (default), BradleyTerryTies or UncertaintyLoss.
        parts: what trains (full, LoRA, head; vision tower; reward-token row).
        lr: AdamW learning rate (after warm-up).
        weight_decay: AdamW weight decay.
        warmup_steps: optimizer steps of linear learning-rate warm-up; then constant, or a cosine decay with `cosine`.
        betas: AdamW betas.
        cosine: decay the learning rate on a cosine to `min_lr_ratio * lr` at the trainer's max_steps.
        min_lr_ratio: the cosine decay's final learning rate, as a fraction of lr.
        missing_object_negatives: fraction of training pairs whose rejected image becomes the chosen one with an
            object erased (world pairs; zoo.reward.negatives), so a policy cannot gain by drawing fewer objects.
        clutter_negatives: fraction of training pairs whose rejected image becomes the chosen one with colour specks
            over it, so a policy cannot gain by splattering colours.
        wrong_shape_negatives: fraction of training pairs whose rejected image becomes the chosen one with an object
            redrawn as another shape, so a policy cannot gain by drawing blobs.
        duplicate_negatives: fraction of training pairs whose rejected image becomes the chosen one with an object
            drawn a second time in an empty place, so a policy cannot gain by drawing an object twice (the clutter
            of guided sampling).
        adjacent_duplicates: of the duplicate negatives, the fraction whose copy touches the original (the
            duplicates GRPO draws to hedge a relation); the others go anywhere free.
        init_from: a folder with `model/` weights (a caption-pretraining export or a scorer) to start from.
        export_dir: where to write the scorer folder when fitting ends.
        activation_checkpointing: recompute transformer blocks in the backward pass.
        hybrid_shard: FSDP2 on a 2-D (replicate, shard) mesh: shard within each node, replicate across nodes.
        param_dtype: FSDP2 mixed precision ("bfloat16": weights gathered and computed in it, fp32 LoRA masters
            and fp32 gradient reduction); None keeps each parameter's dtype.
    """

    def __init__(self, backbone: RewardBackbone, head: Literal["linear", "mlp"] = "linear", loss: nn.Module | None = None,
                 parts: TrainableParts | None = None, lr: float = 1e-4, weight_decay: float = 0.0,
                 warmup_steps: int = 0, betas: tuple[float, float] = (0.9, 0.999), cosine: bool = False,
                 min_lr_ratio: float = 0.05, missing_object_negatives: float = 0.0, clutter_negatives: float = 0.0,
                 wrong_shape_negatives: float = 0.0, duplicate_negatives: float = 0.0, adjacent_duplicates: float = 0.0,
                 init_from: str | None = None, export_dir: str | None = None,
                 activation_checkpointing: bool = False, hybrid_shard: bool = False,
                 param_dtype: Literal["bfloat16", "float16", "float32"] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["backbone", "loss"])
        if init_from:  # loaded now, or (a meta-built backbone) read shard by shard when it materialises
            backbone.start_from(init_from)
        self.model = RewardModel(backbone, head)
        self.parts = parts or TrainableParts()
        apply_parts(self.model, self.parts)
        for param in self.model.parameters():  # trainable parameters in fp32 (LoRA, head), frozen ones as built
            if param.requires_grad and param.is_floating_point():
                param.data = param.data.float()
        self.loss_fn = loss or BradleyTerry()
        self.val_acc, self.test_acc = PairwiseAccuracy(), PairwiseAccuracy()
        self.truncated = 0

    # data glue -----------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Give the datamodule this backbone's collator (tokenizer and image processor run in its workers)."""
        hp = self.hparams
        negatives = HardNegatives(hp.missing_object_negatives, hp.clutter_negatives,
                                  wrong_shape=hp.wrong_shape_negatives, duplicate=hp.duplicate_negatives,
                                  adjacent=hp.adjacent_duplicates)
        connect_batches(self.trainer, PairCollator(self.model.inputs),  # extra negatives in training only
                        PairCollator(self.model.inputs, negatives) if negatives.enabled else None)

    def shard_units(self) -> list[ShardUnit]:
        """Each transformer block of the backbone, then the modules its forward calls; the fp32 head alone (small,
        but sharded so that its gradients are reduced across ranks) without mixed precision."""
        backbone = self.model.backbone
        return [ShardUnit(backbone.decoder_layers(), backbone.fsdp_roots()), ShardUnit([], [self.model.head], mixed=False)]

    def materialize_weights(self, device: torch.device) -> None:
        self.model.backbone.materialize(device)

    # steps --------------------------------------------------------------------------------------
    def _scores(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(batch["inputs"])
        half = out.shape[0] // 2
        self.truncated += int(batch.get("truncated", 0))
        return out[:half], out[half:]

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        chosen, rejected = self._scores(batch)
        loss = self.loss_fn(chosen, rejected, batch.get("tie"))
        acc = (mean_score(chosen) > mean_score(rejected)).float().mean()
        self.log_dict({"train/loss": loss, "train/acc": acc}, prog_bar=True, batch_size=chosen.shape[0])
        if self.truncated:
            self.log("train/truncated_prompts", float(self.truncated), reduce_fx="sum")
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        chosen, rejected = self._scores(batch)
        self.val_acc.update(mean_score(chosen), mean_score(rejected), batch["n_perturbations"])
        self.log("val/loss", self.loss_fn(chosen, rejected, batch.get("tie")), batch_size=chosen.shape[0],
                 sync_dist=True)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        chosen, rejected = self._scores(batch)
        self.test_acc.update(mean_score(chosen), mean_score(rejected), batch["n_perturbations"])

    def _log_accuracy(self, metric: PairwiseAccuracy, prefix: str) -> dict[str, float]:
        values = {k: float(v) for k, v in metric.compute().items()}
        metric.reset()
        self.log_dict({f"{prefix}/acc_{_slug(b)}": values[b] for b in BUCKETS if values[b] == values[b]},
                      prog_bar=prefix == "val")
        return values

    def on_validation_epoch_end(self) -> None:
        self.last_val = self._log_accuracy(self.val_acc, "val")
        if self.trainer.state.fn == "validate":  # `zoo validate`: the Table 1 layout (not at every fit validation)
            self._print_table(self.last_val)

    def on_test_epoch_end(self) -> None:
        self.last_test = self._log_accuracy(self.test_acc, "test")
        self._print_table(self.last_test)

    def _print_table(self, values: dict[str, float]) -> None:
        """Table 1 for this model; `zoo reward table` puts several scorers side by side."""
        if self.trainer.is_global_zero:
            name = type(self.model.backbone).__name__
            print("\n" + format_table({name: values}) + f"\n(pairs: {int(values['n Overall'])})")

    # optimisation -------------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        total = self.trainer.max_steps if self.trainer.max_steps > 0 else int(self.trainer.estimated_stepping_batches)
        return adamw_with_warmup(self.model.named_parameters(), hp.lr, hp.weight_decay, hp.warmup_steps, hp.betas,
                                 cosine_steps=total if hp.cosine else None, min_lr_ratio=hp.min_lr_ratio)

    # export -------------------------------------------------------------------------------------
    exported = "scorer"

    def export_model(self) -> nn.Module:
        return self.model

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """A scorer folder (`zoo.reward.scorer.export_scorer`)."""
        return export_scorer(self.model, folder, self.parts, state)


def _slug(bucket: str) -> str:
    return {"1 Pert.": "1pert", "2-3 Pert.": "2_3pert", "Overall": "overall"}[bucket]
