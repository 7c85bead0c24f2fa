"""What a Lightning checkpoint of the paper-size modules holds: the weights in the module's full state dict (what a
`.ckpt` carried before) against those it saves now (the trainable ones), counted on the meta device (no memory, no
timing). The GRPO module is built from its paper config with a tiny SpatialScore folder standing in for the 8B
reward (whose own frozen bytes the reward row gives).
    python benchmarks/checkpoint_contents.py --out benchmarks/results/checkpoint_contents.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere in a checkout


def _cli(config: str, overlay: dict, folder: Path, *overrides: str):
    """The module of a shipped config plus an overlay YAML, built (meta weights stay meta), not run."""
    from zoo.cli import ZooCLI

    (folder / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    cli = ZooCLI(args=["-c", str(ROOT / config), "-c", str(folder / "overlay.yaml"), *overrides, "--trainer.logger",
                       "false", "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.strategy", "auto"],
                 run=False)
    return cli.model


def _bytes(state: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def contents(module: torch.nn.Module) -> dict:
    """Tensors and bytes of the full state dict and of the saved (trainable) one, by top-level part."""
    full, saved = torch.nn.Module.state_dict(module), module.state_dict()
    parts = sorted({k.split(".")[0] for k in full})
    by_part = {p: {"full_bytes": _bytes({k: v for k, v in full.items() if k.split(".")[0] == p}),
                   "saved_bytes": _bytes({k: v for k, v in saved.items() if k.split(".")[0] == p})} for p in parts}
    return {"full_tensors": len(full), "saved_tensors": len(saved), "full_bytes": _bytes(full),
            "saved_bytes": _bytes(saved), "parts": by_part}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/checkpoint_contents.json")
    args = parser.parse_args()
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = "configs/reward/qwen2_5_vl_7b_lora_fsdp2.yaml"
        backbone = {"pretrained": None, "architecture": "qwen2_5_vl_7b"}
        overlay = {"model": {"init_args": {"backbone": {"init_args": backbone}}}}
        rows[f"reward: Qwen2.5-VL-7B LoRA r64 ({config})"] = contents(_cli(config, overlay, tmp))
        tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                          vision_hidden_size=32, vision_layers=1, vision_heads=2)
        scorer = export_scorer(RewardModel(QwenVLBackbone(tiny=tiny), "linear"), tmp / "scorer")
        config = "configs/grpo/flux_dev_spatialscore_fsdp2.yaml"
        overlay = {"model": {"init_args": {"policy": {"init_args": {"pretrained": None, "architecture": "flux_dev"}}}}}
        rows[f"GRPO: Flux.1-dev LoRA ({config}; tiny reward)"] = contents(
            _cli(config, overlay, tmp, "--model.init_args.reward.init_args.folder", str(scorer)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "python benchmarks/checkpoint_contents.py", "rows": rows}, indent=2) + "\n")
    lines = ["| module | tensors before | bytes before | tensors saved | bytes saved |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['full_tensors']} | {r['full_bytes'] / 1e9:.2f} GB | {r['saved_tensors']} | "
                     f"{r['saved_bytes'] / 1e6:.1f} MB |")
    lines += ["", ("Counted on the meta device from the module's state dict (bf16 frozen weights, fp32 trainable "
                   "ones); optimizer and EMA state come on top of the saved weights, as before. With the paper's 8B "
                   "reward in place of the tiny stand-in, the GRPO checkpoint would also have held that reward's "
                   "frozen weights (about the reward row's bytes before, less its LoRA); it now holds none of them.")]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
