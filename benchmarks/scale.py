"""The project's steps against the bare model doing the same work, back to back in one process.

Three cases: the reward training step (SpatialScore, LoRA, Bradley-Terry), reward scoring as GRPO calls it
(`SpatialScoreReward`: tensors -> PIL -> processor -> model), and the GRPO step (SDE rollout, reward, clipped-ratio
update with KL to the adapter-free reference). "bare" is a plain torch loop over the same modules (inputs prepared
once, no framework); "project" is the project's module through a Lightning Trainer with its logging (TensorBoard,
RL statistics), EMA and KL. Median over iterations after warm-up, synchronised on CUDA. Real sizes (Flux.1-dev
11.9 B, Qwen2.5-VL-7B, random weights, bf16, fp32 LoRA, activation checkpointing) on a GPU; tiny ones on CPU.
    python benchmarks/scale.py --size real --out benchmarks/results/scale_h200.json
    python benchmarks/scale.py --size tiny --out bench_out/scale_tiny.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere in a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_models as sm  # noqa: E402
from callbacks import EMACallback, RLStatsTracker  # noqa: E402
from modules.grpo import GRPOModule  # noqa: E402
from modules.reward import PairCollator, RewardModule  # noqa: E402
from zoo.policy.sampler import sde_steps  # noqa: E402
from zoo.reward.parts import TrainableParts  # noqa: E402
from zoo.dist.fsdp import checkpoint_blocks  # noqa: E402
from zoo.rl.rewards import Reward, SpatialScoreReward, to_pil  # noqa: E402

KEYS = ("input_ids", "attention_mask", "pixel_values", "image_grid_thw", "mm_token_type_ids")


class InMemorySpatialScore(SpatialScoreReward):
    """`SpatialScoreReward` over a reward model in memory (its forward is the project's, unchanged)."""

    def __init__(self, model: torch.nn.Module, batch_size: int, preprocess: str = "pil") -> None:
        Reward.__init__(self)
        self.model, self.meta, self.batch_size = model.requires_grad_(False).eval(), {}, batch_size
        self.preprocess = preprocess


def bare_scores(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reward model by hand: inner model, last-token pooling, the head's linear layer."""
    hidden = model.backbone.model.model(**{k: inputs[k] for k in KEYS}, use_cache=False).last_hidden_state
    last = inputs["attention_mask"].sum(1) - 1
    pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    return F.linear(pooled.float(), model.head.proj.weight, model.head.proj.bias)[:, 0]


def row(case: str, unit: str, work: int, flops: float, bare: tuple, project: tuple, peak: float | None) -> dict:
    """One table row: times, ratio project/bare, throughput, MFU and peak memory of both."""
    (bare_s, bare_mem), (project_s, project_mem) = bare, project
    mfu = (lambda s: flops / s / peak) if peak else (lambda s: None)  # noqa: E731
    return {"case": case, "unit": unit, "work_per_step": work, "bare_s": bare_s, "project_s": project_s,
            "ratio": project_s / bare_s, "bare_rate": work / bare_s, "project_rate": work / project_s,
            "flops_per_step": flops, "mfu_bare": mfu(bare_s), "mfu_project": mfu(project_s),
            "peak_gb_bare": bare_mem, "peak_gb_project": project_mem}


def reward_cases(setting: sm.Setting, device: torch.device, warmup: int, iters: int, root: str) -> tuple[list, object]:
    """Reward training step and reward scoring rows; returns the trained reward model for GRPO."""
    backbone = sm.reward_backbone(setting, device)
    module = RewardModule(backbone, parts=TrainableParts(mode="lora", lora_r=64, lora_alpha=128), lr=1e-4,
                          activation_checkpointing=True)
    module.to(device)
    checkpoint_blocks(backbone.decoder_layers())  # the bare loop recomputes the same blocks
    model, n = module.model, setting.pairs
    pil = to_pil(sm.images(2 * n, setting.reward_image))
    samples = [{"prompt": p, "chosen": pil[i], "rejected": pil[n + i], "n_perturbations": 1, "meta": {}, "key": str(i)}
               for i, p in enumerate(sm.prompts(n))]
    batch = PairCollator(backbone.inputs)(samples)
    inputs = {k: v.to(device) for k, v in batch["inputs"].items()}
    lm, vis = sm.qwen_forward_flops(backbone, inputs)
    opt = torch.optim.AdamW(sm.trainable(model), lr=1e-4)

    def bare_step() -> None:
        scores = bare_scores(model, inputs)
        F.softplus(scores[n:] - scores[:n]).mean().backward()  # Bradley-Terry: -log sigmoid(chosen - rejected)
        opt.step()
        opt.zero_grad(set_to_none=True)

    model.train()
    bare = sm.time_loop(bare_step, device, warmup, iters)
    del opt
    timer = sm.StepTimer(device)
    sm.reset_memory(device)
    fit = sm.trainer(device, warmup + iters, root, [timer], TensorBoardLogger(root, name="reward"))
    fit.fit(module, train_dataloaders=DataLoader([batch] * (warmup + iters), batch_size=None))
    project = (timer.median(warmup), sm.peak_memory_gb(device))
    peak = sm.peak_flops(device)
    rows = [row("reward_train", "pairs/s", n, 2 * lm + vis, bare, project, peak)]  # frozen vision: forward only

    model.to(device).eval()
    k = setting.score_batch
    tensors, texts = sm.images(k, setting.reward_image, seed=1), sm.prompts(k)
    score_inputs = {key: v.to(device) for key, v in backbone.inputs(texts, to_pil(tensors)).items()}
    reward = InMemorySpatialScore(model, batch_size=k)
    with torch.no_grad():
        bare = sm.time_loop(lambda: bare_scores(model, score_inputs).cpu(), device, warmup, iters)
        project = sm.time_loop(lambda: reward(texts, tensors, [{}] * k), device, warmup, iters)
        on_device = tensors.to(device)  # GRPO's images are where the policy drew them
        batched = InMemorySpatialScore(model, batch_size=k, preprocess="tensor")
        tensor_path = sm.time_loop(lambda: batched(texts, on_device, [{}] * k), device, warmup, iters)
    lm, vis = sm.qwen_forward_flops(backbone, score_inputs)
    rows.append(row("reward_score", "images/s", k, lm + vis, bare, project, peak))
    rows.append(row("reward_score_tensor", "images/s", k, lm + vis, bare, tensor_path, peak))
    return rows, reward


def grpo_case(setting: sm.Setting, device: torch.device, reward: InMemorySpatialScore, warmup: int, iters: int,
              root: str) -> dict:
    """GRPO step row: rollout (SDE, log-probs), reward, minibatched clipped-ratio updates with KL."""
    policy = sm.policy(setting, device)
    t = policy.transformer
    checkpoint_blocks(policy.blocks())
    b, chunk, noise_level, clip = setting.images, setting.images // setting.minibatches, 0.9, 1e-4
    texts = [p for p in sm.prompts(b // setting.group) for _ in range(setting.group)]
    sde_mask, trained = sde_steps(setting.steps, 0.99)
    sigmas = policy.sigmas(setting.steps)
    text = policy.encode_text(texts)
    img_ids = policy._image_ids(device)
    dtype = t.dtype
    guidance = torch.full((chunk,), policy.guidance, device=device, dtype=dtype)
    pil = to_pil(sm.images(b, policy.resolution, seed=2))
    score_inputs = {k: v.to(device) for k, v in reward.model.backbone.inputs(texts, pil).items()}
    opt = torch.optim.AdamW(sm.trainable(t), lr=3e-4, weight_decay=1e-4)

    def velocity(x: torch.Tensor, sigma: float, rows: slice) -> torch.Tensor:
        return t(hidden_states=x.to(dtype), encoder_hidden_states=text.prompt_embeds[rows].to(dtype),
                 pooled_projections=text.pooled[rows].to(dtype), timestep=torch.full((x.shape[0],), sigma,
                 device=device, dtype=dtype), img_ids=img_ids, txt_ids=text.text_ids, guidance=guidance,
                 return_dict=False)[0].float()

    def gaussian(x: torch.Tensor, v: torch.Tensor, i: int) -> tuple[torch.Tensor, float]:
        sigma, nxt = sigmas[i], sigmas[i + 1]
        s = nxt if sigma >= 1 else sigma
        std_t, dt = noise_level * (s / (1 - s)) ** 0.5, nxt - sigma
        return x + v * dt + std_t**2 / (2 * sigma) * (x + (1 - sigma) * v) * dt, std_t * (-dt) ** 0.5

    def bare_step() -> None:
        gen = torch.Generator(device=device).manual_seed(0)
        chunks = []
        with torch.no_grad():  # rollout in the update's chunks, log-probs of every SDE step
            for m in range(setting.minibatches):
                rows = slice(m * chunk, (m + 1) * chunk)
                x = policy.noise(list(range(rows.start, rows.stop))).float()
                xs, logps = [x], []
                for i in range(setting.steps):
                    v = velocity(x, sigmas[i], rows)
                    if sde_mask[i]:
                        mean, std = gaussian(x, v, i)
                        x = mean + std * torch.randn(x.shape, generator=gen, device=device)
                        logps.append((-((x - mean) ** 2) / (2 * std**2)).mean(dim=(1, 2)))
                    else:
                        x = x + v * (sigmas[i + 1] - sigmas[i])
                    xs.append(x)
                chunks.append((rows, xs, logps))
            policy.tokens_to_images(torch.cat([c[1][-1] for c in chunks]))
            scores = bare_scores(reward.model, score_inputs)
        adv = ((scores - scores.mean()) / (scores.std() + 1e-4)).clamp(-5, 5).detach()
        steps = [i for i, on in enumerate(trained) if on]
        for rows, xs, logps in chunks:
            for i in steps:
                v = velocity(xs[i], sigmas[i], rows)
                mean, std = gaussian(xs[i], v, i)
                logp = (-((xs[i + 1] - mean) ** 2) / (2 * std**2)).mean(dim=(1, 2))
                ratio = torch.exp(logp - logps[i])
                a = adv[rows]
                loss = torch.maximum(-a * ratio, -a * ratio.clamp(1 - clip, 1 + clip)).mean()
                if setting.beta > 0:
                    with torch.no_grad():
                        t.disable_adapters()
                        ref_mean, _ = gaussian(xs[i], velocity(xs[i], sigmas[i], rows), i)
                        t.enable_adapters()
                    loss = loss + setting.beta * ((mean - ref_mean) ** 2).mean() / (2 * std**2)
                (loss / len(steps)).backward()
            torch.nn.utils.clip_grad_norm_(sm.trainable(t), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

    policy.train()
    bare = sm.time_loop(bare_step, device, warmup, iters)
    del opt
    module = GRPOModule(policy, reward, steps=setting.steps, noise_level=noise_level, minibatches=setting.minibatches,
                        clip_range=clip, beta=setting.beta, lr=3e-4, activation_checkpointing=True)
    batch = {"prompt": texts, "meta": [{}] * b, "group": torch.arange(b) // setting.group}
    timer = sm.StepTimer(device)
    callbacks = [timer, EMACallback(decay=0.9, every_n_steps=1), RLStatsTracker()]
    sm.reset_memory(device)
    fit = sm.trainer(device, (warmup + iters) * setting.minibatches, root, callbacks, TensorBoardLogger(root, name="grpo"))
    fit.fit(module, train_dataloaders=DataLoader([batch] * (warmup + iters), batch_size=None))
    project = (timer.median(warmup), sm.peak_memory_gb(device))
    f = sm.flux_forward_flops(policy, b)
    lm, vis = sm.qwen_forward_flops(reward.model.backbone, score_inputs)
    flops = setting.steps * f + sum(trained) * (2 * f + (f if setting.beta > 0 else 0)) + lm + vis
    return row("grpo_step", "images/s", b, flops, bare, project, sm.peak_flops(device))


def table(result: dict) -> str:
    """The rows as an aligned text table."""
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    head = ("case", "bare s", "project s", "ratio", "bare rate", "project rate", "MFU bare", "MFU proj",
            "peak GB bare", "peak GB proj")
    lines = [head]
    for r in result["rows"]:
        lines.append((r["case"], f"{r['bare_s']:.4f}", f"{r['project_s']:.4f}", f"{r['ratio']:.3f}",
                      f"{r['bare_rate']:.2f} {r['unit']}", f"{r['project_rate']:.2f} {r['unit']}",
                      fmt(r["mfu_bare"], ".1%"), fmt(r["mfu_project"], ".1%"), fmt(r["peak_gb_bare"], ".1f"),
                      fmt(r["peak_gb_project"], ".1f")))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return f"device: {result['device']}  size: {result['size']}\n" + "\n".join(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(sm.SETTINGS), default=None, help="default: real on CUDA, else tiny")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--cases", default="reward,grpo", help="comma-separated: reward (train + score), grpo")
    parser.add_argument("--out", type=Path, default=Path("bench_out/scale.json"))
    args = parser.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    size = args.size or ("real" if device.type == "cuda" else "tiny")
    if device.type == "cuda":
        torch.backends.cuda.enable_cudnn_sdp(False)  # cuDNN's fused attention backward crashed on Flux (stack.md)
    torch.manual_seed(0)
    setting, cases = sm.SETTINGS[size], set(args.cases.split(","))
    rows = []
    with tempfile.TemporaryDirectory() as root:
        reward = None
        if "reward" in cases or "grpo" in cases:
            reward_rows, reward = reward_cases(setting, device, args.warmup, args.iters, root)
            rows += reward_rows if "reward" in cases else []
        if "grpo" in cases:
            rows.append(grpo_case(setting, device, reward, args.warmup, args.iters, root))
    result = {"device": sm.device_name(device), "size": size, "torch": torch.__version__,
              "python": platform.python_version(), "warmup": args.warmup, "iters": args.iters,
              "setting": vars(setting), "peak_flops": sm.peak_flops(device), "rows": rows,
              "notes": "MFU counts 2 x params x tokens + attention per forward, a frozen-weight backward as one "
                       "forward, and no recompute; peak memory is torch's max allocated (None on CPU)"}
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
