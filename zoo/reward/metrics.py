"""Pairwise accuracy split like the paper's Table 1: "1 Pert.", "2-3 Pert." and "Overall"."""

from __future__ import annotations

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


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table in the layout of the paper's Table 1: one row per model, bucket columns."""
    lines = ["| model | " + " | ".join(BUCKETS) + " |", "|---|" + "---|" * len(BUCKETS)]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{float(values[b]):.3f}" for b in BUCKETS) + " |")
    return "\n".join(lines)
