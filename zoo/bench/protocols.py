"""Scoring protocols of the benchmarks, from per-question or per-testpoint verdicts to the paper's columns.

Judges (a VLM answering yes/no, a detector) produce the verdicts; these functions only aggregate
them, the way each benchmark's own evaluation code does (benchmarks.md).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np

from zoo.bench.prompts import TIIF_GROUPS, UNIGEN_LAYOUT, BenchItem, tiif_group

DPG_SPATIAL = "relation - spatial"


def dpg_question_scores(questions: Sequence[dict], said_yes: Sequence[bool]) -> list[float]:
    """DPG-Bench: a question scores 1 if the judge said yes and none of its parents (`dependency`) failed."""
    if len(questions) != len(said_yes):
        raise ValueError(f"{len(questions)} questions but {len(said_yes)} verdicts")
    by_id = {}
    scores = []
    for q, yes in zip(questions, said_yes):
        ok = bool(yes) and all(by_id.get(p, 1.0) == 1.0 for p in q["parents"])
        by_id[q["id"]] = float(ok)
        scores.append(float(ok))
    return scores


def dpg_table(items: Sequence[BenchItem], scores: Sequence[Sequence[float]]) -> dict[str, float]:
    """Mean question score per DPG category over all prompts, "Relation / Spatial" first."""
    per_category: dict[str, list[float]] = defaultdict(list)
    for item, item_scores in zip(items, scores):
        for q, s in zip(item.data["questions"], item_scores):
            per_category[q["category"]].append(s)
    table = {"Relation / Spatial": float(np.mean(per_category[DPG_SPATIAL])) if per_category[DPG_SPATIAL]
             else float("nan")}
    table.update({c: float(np.mean(v)) for c, v in sorted(per_category.items())})
    return table


def tiif_prompt_score(item: BenchItem, answers: Sequence[str]) -> float:
    """TIIF-Bench: the fraction of a prompt's yes/no questions answered as expected."""
    expected = item.data["answers"]
    if len(answers) != len(expected):
        raise ValueError(f"{item.id}: {len(expected)} questions but {len(answers)} answers")
    return float(np.mean([a.strip().lower() == e for a, e in zip(answers, expected)]))


def tiif_table(items: Sequence[BenchItem], prompt_scores: Sequence[float]) -> dict[str, float]:
    """Mean prompt score per reported group: BR (basic relation), AR (attribute + relation), RR (reasoning)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for item, score in zip(items, prompt_scores):
        group = tiif_group(item.category)
        if group:
            groups[group].append(score)
    return {g: float(np.mean(groups[g])) if groups[g] else float("nan") for g in TIIF_GROUPS}


def unigen_table(items: Sequence[BenchItem], verdicts: Sequence[Sequence[float]]) -> dict[str, float]:
    """UniGenBench: the 0/1 verdicts of each testpoint averaged over its occurrences; the layout columns."""
    per_testpoint: dict[str, list[float]] = defaultdict(list)
    for item, item_verdicts in zip(items, verdicts):
        if len(item_verdicts) != len(item.data["testpoints"]):
            raise ValueError(f"{item.id}: {len(item.data['testpoints'])} testpoints but {len(item_verdicts)} verdicts")
        for testpoint, v in zip(item.data["testpoints"], item_verdicts):
            per_testpoint[testpoint].append(float(v))
    return {column: float(np.mean(per_testpoint[tp])) if per_testpoint[tp] else float("nan")
            for column, tp in UNIGEN_LAYOUT.items()}
