"""`zoo reward table`: pairwise accuracy of one or several scorers on a pair set, in the layout of Table 1."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from zoo.progress import tqdm

from zoo.data.records import decode_pair
from zoo.data.stream import ShardStream
from zoo.data.urls import expand_urls
from zoo.errors import UsageError, require_local_folder
from zoo.reward.backbones import untrained_backbone, untrained_names
from zoo.reward.metrics import PairwiseAccuracy, format_table
from zoo.reward.model import RewardModel
from zoo.reward.scorer import Scorer, run_per_item


def evaluate_pairs(model: RewardModel, urls: list[str], batch_size: int = 64, name: str = "") -> dict[str, float]:
    """Pairwise accuracy by bucket of one reward model over every pair of a shard set, with the number of pairs
    skipped (corrupt in the shards, or failing alone in the model: a failing batch is retried pair by pair)."""
    metric = PairwiseAccuracy()
    batch: list[dict] = []
    failed: list[str] = []

    def scores(part: list[dict]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        prompts = [s["prompt"] for s in part]
        both = model.score(prompts + prompts, [s["chosen"] for s in part] + [s["rejected"] for s in part])
        return list(zip(both[: len(part)], both[len(part):]))

    def flush() -> None:
        results = run_per_item(scores, batch)
        good = [(s, r) for s, r in zip(batch, results) if not isinstance(r, Exception)]
        failed.extend(f"{s['key']}: {type(r).__name__}: {r}" for s, r in zip(batch, results)
                      if isinstance(r, Exception))
        if good:
            metric.update(torch.stack([r[0] for _, r in good]), torch.stack([r[1] for _, r in good]),
                          torch.tensor([s["n_perturbations"] for s, _ in good]))
        batch.clear()

    stream = ShardStream(urls, decode_pair, train=False)
    for sample in tqdm(stream, desc=f"pairs {name}", unit="pair"):
        batch.append(sample)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    for reason in failed[:10]:
        print(f"{name}: pair skipped: {reason}")
    return {**{k: float(v) for k, v in metric.compute().items()}, "skipped": float(stream.corrupt + len(failed))}


def table(pairs: str | list[str], scorers: list[str] = [], untrained: list[str] = [], batch_size: int = 64,
          out: Path | None = None, device: str = "cpu", trust_remote_code: bool = False) -> dict[str, dict[str, float]]:
    """Evaluate reward models on a pair set and print the "1 Pert. / 2-3 Pert. / Overall" table.

    Args:
        pairs: pair shards (path, glob, brace pattern, URL) or a list of them.
        scorers: scorer folders; a row each, named by the folder (NAME=PATH to name it yourself).
        untrained: tiny backbones to add as untrained floors (seed 0), by the names their families register
            ("qwen2_5_vl", "qwen2_vl", "qwen3_vl", "clip", ...; `zoo.reward.backbones.untrained_names`).
        batch_size: pairs per forward pass.
        out: write the rows as JSON (OUT) and the table as Markdown (OUT with .md).
        device: "cpu" or "cuda".
        trust_remote_code: let transformers run code shipped in the scorer folders; only for folders you trust.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    for entry in scorers:
        require_local_folder(entry.rpartition("=")[2], "scorer folder")
    unknown = [name for name in untrained if name not in untrained_names()]
    if unknown:
        raise UsageError(f"--untrained {unknown[0]!r} is not a registered backbone; expected one of "
                         f"{sorted(untrained_names())}")
    urls = expand_urls(pairs)
    rows: dict[str, dict[str, float]] = {}
    for name in untrained:
        torch.manual_seed(0)
        rows[f"untrained tiny {name}"] = evaluate_pairs(RewardModel(untrained_backbone(name)).eval(), urls,
                                                        batch_size, name)
    for entry in scorers:
        name, _, path = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        model = Scorer(Path(path), device, trust_remote_code=trust_remote_code).model
        rows[name] = evaluate_pairs(model, urls, batch_size, name)
    text = format_table(rows) + "\n" + "\n".join(
        f"{name}: {int(row['n Overall'])} pairs, {int(row['skipped'])} skipped (corrupt or unscorable)"
        for name, row in rows.items())
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(rows, indent=2))
        Path(out).with_suffix(".md").write_text(text + "\n")
    return rows
