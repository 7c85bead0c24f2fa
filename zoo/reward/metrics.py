"""Pairwise accuracy split like the paper's Table 1: "1 Pert.", "2-3 Pert." and "Overall"."""

from __future__ import annotations

import math

import torch
from torchmetrics import Metric

BUCKETS = ("1 Pert.", "2-3 Pert.", "Overall")


class PairwiseAccuracy(Metric):
    """Fraction of pairs with score(chosen) > score(rejected), per perturbation bucket (summed over ranks)."""

    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("correct", default=torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", default=torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, chosen: torch.Tensor, rejected: torch.Tensor, n_perturbations: torch.Tensor) -> None:
        right = (chosen > rejected).long()
        multi = (n_perturbations >= 2).long()
        for bucket, mask in ((0, multi == 0), (1, multi == 1), (2, torch.ones_like(multi, dtype=torch.bool))):
            self.correct[bucket] += right[mask].sum()
            self.total[bucket] += mask.sum()

    def compute(self) -> dict[str, torch.Tensor]:
        acc = self.correct.float() / self.total.clamp(min=1).float()
        acc = torch.where(self.total > 0, acc, torch.full_like(acc, float("nan")))
        return {name: acc[i] for i, name in enumerate(BUCKETS)} | {f"n {name}": self.total[i] for i, name in enumerate(BUCKETS)}


def wilson_interval(accuracy: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % for z = 1.96): sensible at 0, 1 and small n."""
    if n <= 0:
        return float("nan"), float("nan")
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _cell(values: dict[str, float], bucket: str) -> str:
    accuracy, n = float(values[bucket]), values.get(f"n {bucket}")
    if n is None or math.isnan(accuracy):
        return f"{accuracy:.3f}"
    low, high = wilson_interval(accuracy, float(n))
    return f"{accuracy:.3f} [{low:.3f}, {high:.3f}]"


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table in the layout of the paper's Table 1: one row per model, bucket columns; with the pair counts
    (`n <bucket>`) each cell carries its 95 % Wilson interval and a line under the table gives n per bucket."""
    lines = ["| model | " + " | ".join(BUCKETS) + " |", "|---|" + "---|" * len(BUCKETS)]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(_cell(values, b) for b in BUCKETS) + " |")
    first = next(iter(rows.values()), {})
    if all(f"n {b}" in first for b in BUCKETS):
        counts = ", ".join(f"{b} {int(first[f'n {b}'])}" for b in BUCKETS)
        lines += ["", f"Pairs per bucket: {counts}; in brackets, the 95 % Wilson interval."]
    return "\n".join(lines)
