"""Run under torchrun with 2 CPU processes: SFT steps with DDP and BenchmarkCallback at the end; rank 0 writes
the gathered table and a single-process evaluation of the same weights on all prompts, for comparison."""

from __future__ import annotations

import json
import sys

import lightning as L
import torch

from callbacks import BenchmarkCallback
from datamodules import PreferencePairDataModule
from modules.flow_matching import FlowMatchingModule
from zoo.bench.runner import image_seed
from zoo.bench.spatialbench import spatialbench_table, verify_images
from zoo.policy.flux import FluxPolicy, TinyFlux


def main(pairs: str, prompts: str, out: str) -> None:
    torch.manual_seed(0)
    module = FlowMatchingModule(FluxPolicy(tiny=TinyFlux(image_size=32, pixel_factor=2), guidance=1.0), lr=1e-3)
    bench = BenchmarkCallback(prompts, count=7, every_n_steps=0, steps=2, batch_size=2, out_dir=out + ".d")
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", max_steps=2, logger=False, callbacks=[bench],
                        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
                        limit_val_batches=0)
    trainer.fit(module, datamodule=PreferencePairDataModule(train=pairs, batch_size=2, train_samples_per_epoch=20))
    if trainer.global_rank == 0:
        policy = module.policy.eval()
        images, _ = policy.generate([i.prompt for i in bench.items], [image_seed(0, i.id, 0) for i in bench.items],
                                    steps=2)
        local = spatialbench_table(bench.items, verify_images(images, [i.data["scene"] for i in bench.items]))
        gathered = json.loads(open(out + ".d/step_2.json").read())
        json.dump({"gathered": gathered, "local": local}, open(out, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
