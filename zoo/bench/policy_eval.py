"""`zoo policy eval`: a policy's SpatialBench verdicts on held-out SpatialShapes prompts, summarised as the means the
training logs use (relations, objects found, clutter, ...); the images are the ones `zoo bench` makes (zoo.bench.runner)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from zoo.bench.runner import policy_images
from zoo.bench.spatialbench import load_spatialbench, verdict_means, verify_images
from zoo.images import from_uint8, save_grid
from zoo.policy.io import build_policy


def evaluate_policy(policy, prompts: str | list[str], count: int | None = None, steps: int = 8, batch_size: int = 32,
                    seed: int = 0, out: Path | None = None) -> dict[str, float]:
    """Verified spatial accuracy of a policy on the first `count` prompts of a prompt shard set."""
    items = load_spatialbench(prompts, count)
    arrays = policy_images(policy, [(item, 0) for item in items], steps, seed, batch_size)
    rows = verify_images(arrays, [item.data["scene"] for item in items])
    summary = {"prompts": len(rows), **verdict_means(rows)}
    if out is not None:
        out = Path(out)
        if arrays:
            save_grid(from_uint8(arrays[:64]), out / "samples.png")
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        with open(out / "samples.jsonl", "w") as f:
            for item, row in zip(items, rows):
                f.write(json.dumps({"item": item.id, "prompt": item.prompt, **row}) + "\n")
    return summary


def policy_eval(prompts: str, *, experiment: str, weights: str | None = None, count: int | None = None,
                steps: int = 8, batch_size: int = 32, seed: int = 0, out: str | None = None) -> dict[str, float]:
    """Generate images for held-out SpatialShapes prompts with a policy and judge them with the world verifier.

    Args:
        prompts: prompt shards (path, glob, brace pattern), e.g. data/spatialshapes/prompts/test-*.tar.
        experiment: an experiment YAML (e.g. configs/sft/tiny_flux.yaml); its model.init_args.policy is built.
        weights: a folder written by the module's export (transformer/ or lora/); None = the config's weights.
        count: how many prompts (the first ones, in shard order); None = all.
        steps: sampling steps (ODE).
        batch_size: images per forward pass.
        seed: base seed; each prompt's image seed comes from it and the prompt's id, as in `zoo bench`.
        out: folder for summary.json, samples.jsonl and samples.png (a grid of the first 64).
    """
    policy = build_policy(experiment, weights)
    with torch.no_grad():
        summary = evaluate_policy(policy, prompts, count, steps, batch_size, seed, Path(out) if out else None)
    print(json.dumps(summary, indent=2))
    return summary
