"""The suites `zoo bench` and the benchmark callback run, by name: importing this module registers the built-in
ones (SpatialBench, GenEval, TIIF-Bench, UniGenBench, DPG-Bench); see zoo/bench/suite.py for the protocol and
for adding one. The functions below are the suite-independent steps every entry point shares."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import zoo.bench.geneval  # noqa: F401  (registers "geneval")
import zoo.bench.question_suites  # noqa: F401  (registers "tiif", "unigenbench", "dpg")
import zoo.bench.spatialbench  # noqa: F401,I001  (registers "spatialbench")
from zoo.bench.prompts import BenchFormatError, BenchItem
from zoo.bench.suite import SUITE_REGISTRY, Suite, get_suite
from zoo.data.paths import UnsafePathError, safe_relpath

SUITES = tuple(SUITE_REGISTRY)  # the built-in suites
JUDGED = tuple(name for name, cls in SUITE_REGISTRY.items() if cls.judged)  # by a detector (GenEval) or a VLM


def load_suite(suite: str | Suite, prompts: str, count: int | None = None, variant: str = "short",
               errors: list[str] | None = None) -> list[BenchItem]:
    """A suite's first `count` items (None: all), their ids checked as safe relative paths (they name image
    folders). prompts: SpatialBench prompt shards; GenEval's evaluation_metadata.jsonl; the TIIF-Bench folder
    holding testmini_prompts/ and testmini_eval_prompts/; the UniGenBench CSV; DPG-Bench's dpg_bench.csv."""
    suite = get_suite(suite) if isinstance(suite, str) else suite
    try:
        items = suite.load(prompts, count, variant, errors)
    except UnicodeDecodeError as err:
        raise BenchFormatError(f"{suite.name} prompts {prompts}: not UTF-8 ({err.reason} at byte {err.start})") from None
    items = safe_items(items, f"{suite.name} prompts {prompts}", errors)
    return items[:count] if count is not None else items


def safe_items(items: list[BenchItem], where: str, errors: list[str] | None = None) -> list[BenchItem]:
    """Items whose ids are safe relative paths (they name image folders); the others raise, or are reported in
    `errors` and left out."""
    kept = []
    for item in items:
        try:
            safe_relpath(item.id, "item id")
            kept.append(item)
        except UnsafePathError as err:
            if errors is None:
                raise BenchFormatError(f"{where}: {err}") from None
            errors.append(f"{where}: {err}")
    return kept


def judge_image(suite: str | Suite, item: BenchItem, image: np.ndarray, judge: Any) -> dict[str, Any]:
    """One image's verdict row (raises on failure; the caller records the error)."""
    suite = get_suite(suite) if isinstance(suite, str) else suite
    if suite.judged and judge is None:
        raise ValueError(f"suite {suite.name!r} needs a judge")
    return suite.judge_image(item, image, judge)


def suite_table(suite: str | Suite, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
    """The suite's columns from verdict rows (one per image) and their items."""
    return (get_suite(suite) if isinstance(suite, str) else suite).table(items, rows)


def suite_counts(suite: str | Suite, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, int]:
    """Images behind each column of the suite's table, where the suite reports them (SpatialBench)."""
    return (get_suite(suite) if isinstance(suite, str) else suite).counts(items, rows)
