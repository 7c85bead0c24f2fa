"""What the 2-process RL scripts share (grpo_parallel.py, nft_parallel.py): the tiny policy, a full-tensor copy of a
(possibly sharded) parameter, and a CPU fit on the prompt shards given as argv[1] with logs under argv[4]."""

from __future__ import annotations

import sys

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.distributed.tensor import DTensor

from datamodules import PromptDataModule
from zoo.policy.flux import TinyFlux

TINY = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


def full(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor on CPU, gathered when it is a DTensor shard."""
    return (t.full_tensor() if isinstance(t, DTensor) else t).detach().cpu()


def fit(strategy, module: L.LightningModule, steps: int, callbacks=(), ckpt_path=None) -> L.Trainer:
    """`steps` optimizer steps on 2 CPU processes with `strategy`."""
    data = PromptDataModule(train=sys.argv[1], batch_size=4, group_size=4, steps_per_epoch=20, seed=2)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy=strategy, max_steps=steps, logger=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=list(callbacks),
                        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in callbacks),
                        limit_val_batches=0, default_root_dir=sys.argv[4])
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
    return trainer
