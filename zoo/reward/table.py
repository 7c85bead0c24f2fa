"""`zoo reward table`: pairwise accuracy of one or several scorers on a pair set, in the layout of Table 1."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tqdm import tqdm

from zoo.data.records import decode_pair
from zoo.data.stream import ShardStream
from zoo.data.urls import expand_urls
from zoo.reward.metrics import PairwiseAccuracy, format_table
from zoo.reward.model import RewardModel
from zoo.reward.qwen_vl import QwenVLBackbone
from zoo.reward.scorer import Scorer


def evaluate_pairs(model: RewardModel, urls: list[str], batch_size: int = 64, name: str = "") -> dict[str, float]:
    """Pairwise accuracy by bucket of one reward model over every pair of a shard set."""
    metric = PairwiseAccuracy()
    batch: list[dict] = []

    def flush() -> None:
        prompts = [s["prompt"] for s in batch]
        scores = model.score(prompts + prompts, [s["chosen"] for s in batch] + [s["rejected"] for s in batch])
        metric.update(scores[: len(batch)], scores[len(batch):], torch.tensor([s["n_perturbations"] for s in batch]))
        batch.clear()

    for sample in tqdm(ShardStream(urls, decode_pair, train=False), desc=f"pairs {name}", unit="pair"):
        batch.append(sample)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return {k: float(v) for k, v in metric.compute().items()}


def table(pairs: str | list[str], scorers: list[str] = [], untrained: list[str] = [], batch_size: int = 64,
          out: Path | None = None, device: str = "cpu") -> dict[str, dict[str, float]]:
    """Evaluate reward models on a pair set and print the "1 Pert. / 2-3 Pert. / Overall" table.

    Args:
        pairs: pair shards (path, glob, brace pattern, URL) or a list of them.
        scorers: scorer folders; a row each, named by the folder (NAME=PATH to name it yourself).
        untrained: tiny Qwen-VL families ("qwen2_5_vl", ...) to add as untrained floors (seed 0).
        batch_size: pairs per forward pass.
        out: write the rows as JSON (OUT) and the table as Markdown (OUT with .md).
        device: "cpu" or "cuda".
    """
    urls = expand_urls(pairs)
    rows: dict[str, dict[str, float]] = {}
    for family in untrained:
        torch.manual_seed(0)
        rows[f"untrained tiny {family}"] = evaluate_pairs(RewardModel(QwenVLBackbone(family=family)).eval(), urls,
                                                          batch_size, family)
    for entry in scorers:
        name, _, path = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        model = Scorer(Path(path), device).model
        rows[name] = evaluate_pairs(model, urls, batch_size, name)
    text = format_table(rows)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(rows, indent=2))
        Path(out).with_suffix(".md").write_text(text + "\n")
    return rows
