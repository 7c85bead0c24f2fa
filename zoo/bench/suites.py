"""The suites `zoo bench` runs: how each loads its prompts, judges one image, and tabulates its columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from zoo.bench.geneval import geneval_table, geneval_verdict
from zoo.bench.judges import YesNoJudge, judge_all
from zoo.bench.prompts import BenchFormatError, BenchItem, load_dpg, load_geneval, load_tiif, load_unigenbench
from zoo.bench.protocols import dpg_question_scores, dpg_table, tiif_prompt_score, tiif_table, unigen_table
from zoo.bench.spatialbench import load_spatialbench, spatialbench_counts, spatialbench_table, verify_images
from zoo.data.paths import UnsafePathError, safe_relpath

SUITES = ("spatialbench", "geneval", "tiif", "unigenbench", "dpg")
JUDGED = ("geneval", "tiif", "unigenbench", "dpg")  # by a detector (GenEval) or a VLM
UNIGEN_QUESTION = "Does the image show this: {description}?"  # one yes/no question per testpoint


def load_suite(suite: str, prompts: str, count: int | None = None, variant: str = "short",
               errors: list[str] | None = None) -> list[BenchItem]:
    """A suite's items. prompts: SpatialBench prompt shards; GenEval's evaluation_metadata.jsonl; the TIIF-Bench
    folder holding testmini_prompts/ and testmini_eval_prompts/; the UniGenBench CSV; DPG-Bench's dpg_bench.csv."""
    if suite == "spatialbench":
        return load_spatialbench(prompts, count)  # shard keys are checked by the shard reader
    try:
        items = _load_published(suite, prompts, variant, errors)
    except UnicodeDecodeError as err:
        raise BenchFormatError(f"{suite} prompts {prompts}: not UTF-8 ({err.reason} at byte {err.start})") from None
    items = safe_items(items, f"{suite} prompts {prompts}", errors)
    return items[:count] if count is not None else items


def _load_published(suite: str, prompts: str, variant: str, errors: list[str] | None) -> list[BenchItem]:
    if suite == "geneval":
        return load_geneval(prompts, errors)
    if suite == "tiif":
        root = Path(prompts)
        return load_tiif(root / "testmini_prompts", root / "testmini_eval_prompts", variant, errors)
    if suite == "unigenbench":
        return load_unigenbench(prompts, errors)
    if suite == "dpg":
        return load_dpg(prompts, errors)
    raise ValueError(f"suite must be one of {SUITES}, got {suite!r}")


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


def questions_of(suite: str, item: BenchItem) -> list[str]:
    """The yes/no questions a judge is asked about an image of this item."""
    if suite == "tiif":
        return item.data["questions"]
    if suite == "unigenbench":
        return [UNIGEN_QUESTION.format(description=d) for d in item.data["descriptions"]]
    return [q["question"] for q in item.data["questions"]]


def judge_image(suite: str, item: BenchItem, image: np.ndarray, judge: YesNoJudge | None) -> dict[str, Any]:
    """One image's verdict row (raises on failure; the caller records the error)."""
    if suite == "spatialbench":
        return verify_images([image], [item.data["scene"]])[0]
    if judge is None:
        raise ValueError(f"suite {suite!r} needs a judge")
    if suite == "geneval":  # the judge is a detector here
        detections = judge.detect([Image.fromarray(image)], [[c["class"] for c in item.data["include"]]])[0]
        return geneval_verdict(item, detections)
    questions = questions_of(suite, item)
    results = judge_all(judge, [Image.fromarray(image)] * len(questions), questions)
    failed = [r.error for r in results if r.error]
    if failed:
        raise RuntimeError(f"judge failed on {len(failed)} of {len(questions)} questions: {failed[0]}")
    p_yes = [r.p_yes for r in results]
    row: dict[str, Any] = {"p_yes": p_yes}
    if suite == "tiif":
        row["score"] = tiif_prompt_score(item, ["yes" if p >= 0.5 else "no" for p in p_yes])
    elif suite == "unigenbench":
        row["verdicts"] = [float(p >= 0.5) for p in p_yes]
    else:
        row["scores"] = dpg_question_scores(item.data["questions"], [p >= 0.5 for p in p_yes])
    return row


def suite_table(suite: str, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
    """The suite's columns from verdict rows (one per image) and their items."""
    if suite == "spatialbench":
        return spatialbench_table(items, rows)
    if suite == "geneval":
        return geneval_table(items, rows)
    if suite == "tiif":
        return tiif_table(items, [r["score"] for r in rows])
    if suite == "unigenbench":
        return unigen_table(items, [r["verdicts"] for r in rows])
    return dpg_table(items, [r["scores"] for r in rows])


def suite_counts(suite: str, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, int]:
    """Images behind each column of the suite's table, where the suite reports them (SpatialBench)."""
    return spatialbench_counts(items, rows) if suite == "spatialbench" else {}
