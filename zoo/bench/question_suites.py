"""The suites judged by a VLM's yes/no answers: TIIF-Bench, UniGenBench and DPG-Bench (each its published prompt
files, questions and scoring protocol, zoo/bench/protocols.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from zoo.bench.judges import QwenVLJudge, YesNoJudge, judge_all
from zoo.bench.prompts import BenchItem, load_dpg, load_tiif, load_unigenbench
from zoo.bench.protocols import dpg_question_scores, dpg_table, tiif_prompt_score, tiif_table, unigen_table
from zoo.bench.suite import Suite, register_suite

UNIGEN_QUESTION = "Does the image show this: {description}?"  # one yes/no question per testpoint


class QuestionSuite(Suite):
    """A suite whose images a Qwen-VL judge answers yes/no questions about; subclasses say which questions and how
    the answers score."""

    judged = True

    def build_judge(self, model: str | None, family: str) -> YesNoJudge:
        return QwenVLJudge(model, family)

    def questions(self, item: BenchItem) -> list[str]:
        """The yes/no questions a judge is asked about an image of this item."""
        return [q["question"] for q in item.data["questions"]]

    def scored(self, item: BenchItem, p_yes: list[float]) -> dict[str, Any]:
        """The verdict fields of one image from the judge's P(yes) per question."""
        raise NotImplementedError

    def judge_image(self, item: BenchItem, image: np.ndarray, judge: YesNoJudge) -> dict[str, Any]:
        questions = self.questions(item)
        results = judge_all(judge, [Image.fromarray(image)] * len(questions), questions)
        failed = [r.error for r in results if r.error]
        if failed:
            raise RuntimeError(f"judge failed on {len(failed)} of {len(questions)} questions: {failed[0]}")
        p_yes = [r.p_yes for r in results]
        return {"p_yes": p_yes, **self.scored(item, p_yes)}


@register_suite
class TIIFBench(QuestionSuite):
    """TIIF-Bench testmini: the folder holding testmini_prompts/ and testmini_eval_prompts/; short or long prompts."""

    name = "tiif"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        root = Path(prompts)
        return load_tiif(root / "testmini_prompts", root / "testmini_eval_prompts", variant, errors)

    def questions(self, item: BenchItem) -> list[str]:
        return item.data["questions"]

    def scored(self, item: BenchItem, p_yes: list[float]) -> dict[str, Any]:
        return {"score": tiif_prompt_score(item, ["yes" if p >= 0.5 else "no" for p in p_yes])}

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return tiif_table(items, [r["score"] for r in rows])


@register_suite
class UniGenBench(QuestionSuite):
    """UniGenBench: its CSV, one yes/no question per testpoint description."""

    name = "unigenbench"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        return load_unigenbench(prompts, errors)

    def questions(self, item: BenchItem) -> list[str]:
        return [UNIGEN_QUESTION.format(description=d) for d in item.data["descriptions"]]

    def scored(self, item: BenchItem, p_yes: list[float]) -> dict[str, Any]:
        return {"verdicts": [float(p >= 0.5) for p in p_yes]}

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return unigen_table(items, [r["verdicts"] for r in rows])


@register_suite
class DPGBench(QuestionSuite):
    """DPG-Bench: dpg_bench.csv, its question graph (a question counts only when its parents were answered yes)."""

    name = "dpg"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        return load_dpg(prompts, errors)

    def scored(self, item: BenchItem, p_yes: list[float]) -> dict[str, Any]:
        return {"scores": dpg_question_scores(item.data["questions"], [p >= 0.5 for p in p_yes])}

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return dpg_table(items, [r["scores"] for r in rows])
