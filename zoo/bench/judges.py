"""Judges: ask yes/no questions about images (DPG-Bench, TIIF-Bench, UniGenBench testpoints).

`QwenVLJudge` is a real transformers Qwen-VL: it reads the next-token probabilities of the answer
words after the question (no sampling), in batches. Any object with `p_yes(images, questions)` is a
judge. `judge_all` never lets one bad sample stop a run: a failing batch is retried one sample at a
time and the failures come back as errors, per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch
from PIL import Image

from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL

REAL_JUDGE_TEMPLATE = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{image}{prompt} "
                       "Answer yes or no.<|im_end|>\n<|im_start|>assistant\n")


class YesNoJudge(Protocol):
    """Anything that gives P(yes) for (image, question) pairs."""

    def p_yes(self, images: Sequence[Image.Image], questions: Sequence[str]) -> list[float]: ...


def answer_ids(tokenizer, word: str) -> list[int]:
    """Ids of the single tokens that spell `word` (any case, with or without a leading space)."""
    ids = set()
    for text in (word, word.capitalize(), " " + word, " " + word.capitalize()):
        pieces = tokenizer.encode(text, add_special_tokens=False)
        if len(pieces) == 1:
            ids.add(pieces[0])
    if not ids:
        raise ValueError(f"the tokenizer has no single token for {word!r}: a yes/no judge needs one")
    return sorted(ids)


class QwenVLJudge:
    """A Qwen-VL (2, 2.5 or 3) answering yes/no questions from its answer tokens' probabilities.

    Args:
        pretrained: local path or hub id (e.g. Qwen/Qwen2.5-VL-7B-Instruct); None builds a tiny random one
            (tests) unless `backbone` is given.
        family: "qwen2_5_vl", "qwen2_vl" or "qwen3_vl".
        backbone: an existing QwenVLBackbone (e.g. a caption-pretrained tiny one) with pooling "last".
        batch_size: questions per forward pass.
        template: text around image and question ({image} and {prompt} once each).
        dtype, device: weights dtype and device.
    """

    def __init__(self, pretrained: str | None = None, family: str = "qwen2_5_vl",
                 backbone: QwenVLBackbone | None = None, batch_size: int = 8, template: str | None = None,
                 dtype: str = "float32", device: str = "cpu", tiny: TinyQwenVL | None = None) -> None:
        if backbone is None:
            template = template or (REAL_JUDGE_TEMPLATE if pretrained else None)  # tiny: its caption template
            backbone = QwenVLBackbone(family, pretrained, tiny=tiny, template=template, pooling="last", dtype=dtype)
        self.backbone = backbone.to(device).eval()
        self.batch_size, self.device = batch_size, torch.device(device)
        tokenizer = self.backbone.inputs.tokenizer
        self.yes_ids, self.no_ids = answer_ids(tokenizer, "yes"), answer_ids(tokenizer, "no")

    @torch.no_grad()
    def p_yes(self, images: Sequence[Image.Image], questions: Sequence[str]) -> list[float]:
        """P(yes) against P(no) for each (image, question), renormalised over the two answers."""
        if len(images) != len(questions):
            raise ValueError(f"{len(images)} images but {len(questions)} questions")
        out: list[float] = []
        for start in range(0, len(images), self.batch_size):
            batch = self.backbone.inputs(list(questions[start:start + self.batch_size]),
                                         list(images[start:start + self.batch_size]))
            batch = {k: v.to(self.device) for k, v in batch.items()}
            logits = self.backbone.model(**self.backbone._model_inputs(batch)).logits
            last = batch["attention_mask"].sum(1) - 1
            final = logits[torch.arange(logits.shape[0], device=logits.device), last].float()
            yes = torch.logsumexp(final[:, self.yes_ids], dim=-1)
            no = torch.logsumexp(final[:, self.no_ids], dim=-1)
            out += torch.sigmoid(yes - no).tolist()
        return out


@dataclass
class JudgeResult:
    """P(yes) of one question, or the error that stopped it."""

    p_yes: float | None
    error: str | None = None

    @property
    def yes(self) -> bool | None:
        return None if self.p_yes is None else self.p_yes >= 0.5


def judge_all(judge: YesNoJudge, images: Sequence[Image.Image], questions: Sequence[str],
              batch_size: int = 32) -> list[JudgeResult]:
    """Ask every question; a failing batch is retried sample by sample and only the bad samples carry errors."""
    results: list[JudgeResult] = []
    for start in range(0, len(images), batch_size):
        imgs, qs = list(images[start:start + batch_size]), list(questions[start:start + batch_size])
        try:
            results += [JudgeResult(p) for p in judge.p_yes(imgs, qs)]
        except Exception:  # noqa: BLE001 - one bad sample must not stop the run; found below, per sample
            for image, question in zip(imgs, qs):
                try:
                    results.append(JudgeResult(judge.p_yes([image], [question])[0]))
                except Exception as err:  # noqa: BLE001
                    results.append(JudgeResult(None, f"{type(err).__name__}: {err}"))
    return results
