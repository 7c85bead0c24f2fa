"""Run under torchrun with 2 CPU processes: a Lightning DDP (gloo) validation pass over pair shards,
and the prompt module's grouped training batches; rank 0 writes what every rank saw as JSON."""

from __future__ import annotations

import json
import sys

import lightning as L
import torch
import torch.distributed as dist

from datamodules import PreferencePairDataModule, PromptDataModule


class KeyRecorder(L.LightningModule):
    """Records the keys of every validation batch it sees (a probe, not a model)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.keys: list[str] = []

    def validation_step(self, batch, batch_idx):
        self.keys.extend(batch["key"])


def main(pairs: str, prompts: str, out: str) -> None:
    recorder = KeyRecorder()
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False)
    dm = PreferencePairDataModule(val=pairs, eval_batch_size=3, num_workers=2)
    trainer.validate(recorder, datamodule=dm)
    prompt_dm = PromptDataModule(train=prompts, val=prompts, batch_size=6, group_size=4, steps_per_epoch=2,
                                 eval_batch_size=4)
    train_batches = [{"prompt": b["prompt"], "group": b["group"].tolist()} for b in prompt_dm.train_dataloader()]
    eval_keys = [k for b in prompt_dm.val_dataloader() for k in b["key"]]
    seen = [None] * dist.get_world_size()
    dist.all_gather_object(seen, {"rank": dist.get_rank(), "val_keys": recorder.keys,
                                  "prompt_batches": train_batches, "prompt_eval_keys": eval_keys})
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump(seen, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
    if dist.is_initialized():  # an orderly teardown: exiting with a live gloo group can abort the process (SIGABRT)
        dist.barrier()
        dist.destroy_process_group()
