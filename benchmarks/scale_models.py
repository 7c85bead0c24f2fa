"""What benchmarks/scale.py measures with: the settings (tiny on CPU, real sizes on a GPU), the models built for them
(random weights; real sizes built on the meta device and materialised on the GPU), FLOP estimates, the bf16 peak
of known GPUs, timing and memory helpers."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import lightning as L
import torch
from torch import nn

from zoo.policy.flux import FluxPolicy, LoraSpec, TinyFlux
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL

# dense bf16 peak FLOP/s by device name (the first entry found in torch.cuda.get_device_name())
PEAK_BF16 = (("GH200", 989e12), ("H200", 989e12), ("H100", 989e12), ("H800", 989e12), ("B200", 2250e12),
             ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12), ("A10", 125e12))
FLUX_LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out",
                     "ff.net.0.proj", "ff.net.2", "ff_context.net.0.proj", "ff_context.net.2", "proj_mlp"]


@dataclass
class Setting:
    """Sizes of one benchmark run."""

    size: str
    pairs: int  # reward training: pairs per step (2 x pairs sequences)
    score_batch: int  # reward scoring: images per call
    reward_image: int  # reward image side in pixels
    images: int  # GRPO: images per step (one rank)
    group: int  # GRPO group size
    minibatches: int  # GRPO optimizer steps per rollout
    steps: int  # sampler steps per rollout (all but the last trained)
    beta: float  # KL to the reference (one extra no-grad forward per trained step)
    lora_r: int  # policy LoRA rank (the reward's is 64, the paper's)


SETTINGS = {
    "real": Setting("real", pairs=4, score_batch=32, reward_image=448, images=8, group=4, minibatches=2, steps=6,
                    beta=0.04, lora_r=32),
    "tiny": Setting("tiny", pairs=2, score_batch=8, reward_image=32, images=8, group=4, minibatches=2, steps=4,
                    beta=0.04, lora_r=4),
}
TINY_QWEN = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                       vision_hidden_size=32, vision_layers=1, vision_heads=2)
TINY_FLUX = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                     axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)


def reward_backbone(setting: Setting, device: torch.device) -> QwenVLBackbone:
    """Qwen2.5-VL-7B (bf16, random, built on meta then materialised on `device`) or the tiny one."""
    if setting.size == "tiny":
        return QwenVLBackbone(tiny=TINY_QWEN).to(device)
    side = setting.reward_image
    backbone = QwenVLBackbone(architecture="qwen2_5_vl_7b", init_device="meta", dtype="bfloat16",
                              min_pixels=side * side, max_pixels=side * side, template="{image}{prompt}")
    backbone.materialize(device)
    return backbone.to(device)


def policy(setting: Setting, device: torch.device) -> FluxPolicy:
    """Flux.1-dev's transformer (bf16, random, fp32 LoRA, 512^2, 512 text tokens) or the tiny policy."""
    if setting.size == "tiny":
        built = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, lora=LoraSpec(r=setting.lora_r, alpha=2 * setting.lora_r))
    else:
        built = FluxPolicy(architecture="flux_dev", init_device="meta", dtype="bfloat16", resolution=512,
                           max_sequence_length=512, guidance=3.5,
                           lora=LoraSpec(r=setting.lora_r, alpha=2 * setting.lora_r, targets=FLUX_LORA_TARGETS))
        built.materialize(device)
    return built.to(device)


def prompts(n: int) -> list[str]:
    """n SpatialShapes-style prompts (about 64 tokens each with the world tokenizer at real size)."""
    colours = ["red", "blue", "green", "yellow", "orange", "purple"]
    return [f"a {colours[i % 6]} circle to the left of a {colours[(i + 1) % 6]} square, and the "
            f"{colours[(i + 2) % 6]} triangle above the {colours[i % 6]} circle" for i in range(n)]


def images(n: int, side: int, seed: int = 0) -> torch.Tensor:
    """n random images in [0, 1], (n, 3, side, side)."""
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


# FLOP estimates (matmul FLOPs of the forward: 2 x parameters x tokens, plus attention) ------------------------------
def _numel(modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def qwen_forward_flops(backbone: QwenVLBackbone, batch: dict[str, torch.Tensor]) -> tuple[float, float]:
    """(language model, vision tower) forward FLOPs of one batch."""
    inner = backbone.model.model
    text, vision = backbone.model.config.text_config, backbone.model.config.vision_config
    mask = batch["attention_mask"]
    lengths = mask.sum(1).double()
    lm = 2 * _numel(inner.language_model.layers) * float(lengths.sum())
    lm += 4 * text.num_hidden_layers * text.hidden_size * float((lengths ** 2).sum())
    patches = batch["image_grid_thw"].prod(-1).double()  # vision tokens per image, before merging
    blocks = list(inner.visual.blocks)
    vis = 2 * _numel(blocks) * float(patches.sum()) + 2 * _numel([inner.visual.merger]) * float(patches.sum()) / 4
    full = set(getattr(vision, "fullatt_block_indexes", []) or range(len(blocks)))
    window = (getattr(vision, "window_size", 0) // getattr(vision, "patch_size", 14)) ** 2 or None
    for i in range(len(blocks)):
        span = patches if i in full or window is None else torch.clamp(patches, max=window)
        vis += 4 * vision.hidden_size * float((patches * span).sum())
    return lm, vis


def flux_forward_flops(policy: FluxPolicy, batch: int) -> float:
    """Transformer forward FLOPs for `batch` images (image + text tokens through every block)."""
    t = policy.transformer
    tokens = policy.image_seq_len + policy.max_sequence_length
    blocks = len(t.transformer_blocks) + len(t.single_transformer_blocks)
    width = t.config.num_attention_heads * t.config.attention_head_dim
    params = sum(p.numel() for n, p in t.named_parameters() if "lora_" not in n)
    return batch * (2 * params * tokens + 4 * blocks * tokens * tokens * width)


def peak_flops(device: torch.device) -> float | None:
    """The device's dense bf16 peak, None on CPU or an unknown GPU."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16 if key in name), None)


def device_name(device: torch.device) -> str:
    """The accelerator's name, or the CPU's core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import os
    return f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


# timing ------------------------------------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    """Wait for the accelerator's queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_memory(device: torch.device) -> None:
    """Start a new peak-memory window."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gb(device: torch.device) -> float | None:
    """Peak allocated accelerator memory since the last reset (None on CPU)."""
    return torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else None


def time_loop(fn: Callable[[], object], device: torch.device, warmup: int, iters: int) -> tuple[float, float | None]:
    """(median seconds per call after `warmup` calls, peak memory in GB)."""
    reset_memory(device)
    times = []
    for i in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times), peak_memory_gb(device)


class StepTimer(L.Callback):
    """Wall time of each training step inside a Trainer, from one batch's start to the next (data, step, logging,
    callbacks: everything the run pays), synchronised with the accelerator."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.starts = device, []

    def on_train_batch_start(self, *args) -> None:
        sync(self.device)
        self.starts.append(time.perf_counter())

    def on_train_end(self, *args) -> None:
        sync(self.device)
        self.starts.append(time.perf_counter())

    def median(self, warmup: int) -> float:
        """Median step time after `warmup` steps."""
        steps = [b - a for a, b in zip(self.starts, self.starts[1:])]
        return statistics.median(steps[warmup:])


def trainer(device: torch.device, steps: int, root: str, callbacks: list, logger=None) -> L.Trainer:
    """A one-device Trainer as `zoo fit` builds it, without validation, checkpoints or progress bars."""
    return L.Trainer(accelerator="gpu" if device.type == "cuda" else "cpu", devices=1, max_steps=steps,
                     logger=logger or False, callbacks=callbacks, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                     num_sanity_val_steps=0, default_root_dir=root, log_every_n_steps=1)


def trainable(module: nn.Module) -> list[nn.Parameter]:
    """The parameters that train (LoRA, head, reward token)."""
    return [p for p in module.parameters() if p.requires_grad]
