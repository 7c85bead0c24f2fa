"""`zoo data construct`: preference pairs from a policy's own images, judged from their pixels.

For each prompt the policy draws K images with the same SDE sampler GRPO rolls out with; the judge
(the SpatialShapes verifier for world prompts) scores each; the best and the worst image of the prompt
become a pair when their scores differ by at least `margin`. A reward model trained on such pairs
(beside rendered ones) learns to rank the policy's own images the way the judge does, which is what
GRPO's group advantages need. Shards are written per chunk of prompts, atomically, so an interrupted
run resumes at the first missing shard.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from zoo.bench.spatialbench import load_spatialbench, verify_images
from zoo.data.writing import encode_json, encode_png, shard_name, write_json_atomic, write_shard


def ranked_pairs(items: list, images: torch.Tensor, per_prompt: int, objects_weight: float,
                 margin: float) -> tuple[list[dict[str, Any]], int]:
    """(best, worst) image pairs of each prompt whose judged scores differ by >= margin; and how many had less."""
    rows = verify_images(images, [item.data["scene"] for item in items for _ in range(per_prompt)])
    arrays = (images.permute(0, 2, 3, 1).clamp(0, 1).cpu().numpy() * 255).round().astype(np.uint8)
    pairs, flat = [], 0
    for g, item in enumerate(items):
        idx = list(range(g * per_prompt, (g + 1) * per_prompt))
        scores = [rows[i]["score"] + objects_weight * rows[i]["found"] for i in idx]
        best, worst = idx[int(np.argmax(scores))], idx[int(np.argmin(scores))]
        if max(scores) - min(scores) < margin:
            flat += 1
            continue
        meta = {**item.data["scene"], "prompt": item.prompt, "n_perturbations": 0, "source": "policy, ranked",
                "chosen_verdict": rows[best], "rejected_verdict": rows[worst], "item": item.id}
        pairs.append({"__key__": f"{item.id}", "chosen.png": encode_png(arrays[best]),
                      "rejected.png": encode_png(arrays[worst]), "json": encode_json(meta)})
    return pairs, flat


def construct(out: Path, prompts: str, experiment: str = "configs/sft/tiny_flux.yaml", weights: str | None = None,
              count: int = 1000, images_per_prompt: int = 8, steps: int = 8, noise_level: float = 0.7,
              margin: float = 0.25, objects_weight: float = 0.25, prompts_per_shard: int = 200, batch_size: int = 64,
              seed: int = 0, split: str = "train") -> dict[str, Any]:
    """Build preference pairs from a policy's own images, judged by the SpatialShapes verifier.

    Args:
        out: output folder: OUT/{split}-NNNNNN.tar pair shards and OUT/construct_summary.json.
        prompts: world prompt shards (e.g. data/spatialshapes/prompts/train-*.tar).
        experiment: an experiment YAML whose model.init_args.policy is the generator (e.g. configs/sft/tiny_flux.yaml).
        weights: the generator's trained weights (a folder from FlowPolicy.save).
        count: prompts to use (the first ones).
        images_per_prompt: K images per prompt.
        steps, noise_level: the SDE sampler (as GRPO's rollouts).
        margin: least judged-score difference between a pair's chosen and rejected image.
        objects_weight: the judged score is relations satisfied + objects_weight * objects found.
        prompts_per_shard: prompts per output shard (the unit of resuming).
        batch_size: images per generation batch.
        seed: base of the noise seeds (image k of prompt i: seed, i, k).
        split: shard name prefix.
    """
    from zoo.policy.evaluate import build_policy

    out = Path(out)
    started = time.perf_counter()
    items = load_spatialbench(prompts, count)
    missing = [i.id for i in items if "scene" not in i.data]
    if missing:
        raise ValueError(f"{prompts}: prompt {missing[0]} has no SpatialShapes scene for the verifier to judge")
    policy = build_policy(experiment, weights)
    chunks = [items[i:i + prompts_per_shard] for i in range(0, len(items), prompts_per_shard)]
    kept = flat = reused = 0
    failed: list[str] = []
    with tqdm(total=len(items), desc=f"construct {out.name}", unit="prompt") as bar:
        for index, chunk in enumerate(chunks):
            path = out / shard_name(split, index)
            if path.exists():
                reused += 1
                kept += sum(1 for _ in _keys(path))
                bar.update(len(chunk))
                continue
            try:
                pairs, flats = _chunk_pairs(policy, chunk, index * prompts_per_shard, images_per_prompt, steps,
                                            noise_level, margin, objects_weight, batch_size, seed)
            except Exception as err:  # noqa: BLE001 - one failed chunk is reported, the others still written
                failed.append(f"{path.name}: {type(err).__name__}: {err}")
                bar.update(len(chunk))
                continue
            write_shard(path, pairs)
            kept, flat = kept + len(pairs), flat + flats
            bar.update(len(chunk))
            bar.set_postfix(pairs=kept)
    summary = {"prompts": len(items), "pairs": kept, "flat_prompts": flat, "shards": len(chunks),
               "shards_reused": reused, "failed_shards": failed, "seconds": round(time.perf_counter() - started, 1),
               "images_per_prompt": images_per_prompt, "margin": margin, "generator": {"experiment": str(experiment),
                                                                                       "weights": str(weights)}}
    write_json_atomic(out / "construct_summary.json", summary)
    print(json.dumps({k: v for k, v in summary.items() if k != "generator"}))
    if failed:
        print(f"{len(failed)} shard(s) failed and are missing (rerun to retry): {failed[:3]}")
    return summary


def _chunk_pairs(policy, chunk: list, first: int, per_prompt: int, steps: int, noise_level: float, margin: float,
                 objects_weight: float, batch_size: int, seed: int) -> tuple[list[dict], int]:
    texts = [item.prompt for item in chunk for _ in range(per_prompt)]
    seeds = [(seed * 1_000_003 + (first + i // per_prompt)) * 1009 + i % per_prompt for i in range(len(texts))]
    with torch.no_grad():
        images, _ = policy.generate(texts, seeds, steps=steps, noise_level=noise_level, batch_size=batch_size)
    return ranked_pairs(chunk, images, per_prompt, objects_weight, margin)


def _keys(path: Path):
    from zoo.data.stream import ErrorLog, iter_tar_samples

    yield from (raw["__key__"] for raw in iter_tar_samples(str(path), ErrorLog("skip", "construct")))
