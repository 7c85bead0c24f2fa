"""Judges that say, per relation, whether an image shows it: the SpatialShapes verifier, or a Qwen-VL yes/no judge.

`judge(images, item, relations)` returns, per image, one confidence in [0, 1] per relation (None where the
judge failed on that image). The verifier reads a world item's scene and answers 1 or 0; the VLM judge
asks "In this image, is <subject> <phrase> <object>?" and answers P(yes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PIL import Image

from zoo.bench.judges import QwenVLJudge, judge_all
from zoo.bench.prompts import BenchItem
from zoo.data.relations import TextRelation, entity_key
from zoo.world.scene import Scene
from zoo.world.verify import verify

WORLD_PREDICATES = {"left_of": "to the left of", "right_of": "to the right of", "above": "above", "below": "below",
                    "in_front_of": "in front of", "behind": "behind"}


class RelationJudge(Protocol):
    """Confidence per (image, relation) that the image shows the relation."""

    name: str

    def judge(self, images: Sequence[np.ndarray], item: BenchItem,
              relations: Sequence[TextRelation]) -> list[list[float | None]]: ...


def world_relations(relations: Sequence[TextRelation], scene: dict) -> list[list] | None:
    """Parsed relations as world triples [subject index, phrase, object index], or None if one does not map."""
    names = [f"{o['colour']} {o['shape']}" for o in scene["objects"]]
    out = []
    for r in relations:
        s, o = entity_key(r.subject), entity_key(r.object)
        if r.predicate not in WORLD_PREDICATES or s not in names or o not in names:
            return None
        out.append([names.index(s), WORLD_PREDICATES[r.predicate], names.index(o)])
    return out


class VerifierJudge:
    """The SpatialShapes verifier: the item's scene relations, judged from pixels (1 or 0 each)."""

    name = "verifier"

    def judge(self, images: Sequence[np.ndarray], item: BenchItem,
              relations: Sequence[TextRelation]) -> list[list[float | None]]:
        scene = item.data.get("scene")
        if scene is None:
            raise ValueError(f"prompt {item.id} has no SpatialShapes scene: the verifier judges world prompts only")
        mapped = world_relations(relations, scene)
        if mapped is None:
            raise ValueError(f"prompt {item.id}: its parsed relations do not map onto its scene")
        judged = Scene.from_json({**scene, "relations": mapped})
        return [[float(ok) for ok in verify(image, judged).relations] for image in images]


def relation_question(relation: TextRelation) -> str:
    """The yes/no question asked about one relation."""
    return f"In this image, is {relation.sentence()}{'' if relation.object else ' of the image'}?"


class VLMJudge:
    """A Qwen-VL yes/no judge (`zoo.bench.judges.QwenVLJudge`) asked one question per relation.

    Args:
        pretrained: local path or hub id (e.g. Qwen/Qwen2.5-VL-7B-Instruct); None builds a tiny random one (tests).
        family: "qwen2_5_vl", "qwen2_vl" or "qwen3_vl".
        batch_size: questions per forward pass.
        device: where the judge runs.
    """

    name = "qwen_vl"

    def __init__(self, pretrained: str | None = None, family: str = "qwen2_5_vl", batch_size: int = 8,
                 device: str = "cpu") -> None:
        self.model = QwenVLJudge(pretrained, family, batch_size=batch_size, device=device)
        self.batch_size = batch_size

    def judge(self, images: Sequence[np.ndarray], item: BenchItem,
              relations: Sequence[TextRelation]) -> list[list[float | None]]:
        questions = [relation_question(r) for r in relations]
        pils = [Image.fromarray(im) for im in images]
        flat = judge_all(self.model, [im for im in pils for _ in questions], questions * len(pils), self.batch_size)
        n = len(questions)
        return [[res.p_yes for res in flat[i * n:(i + 1) * n]] for i in range(len(pils))]


def make_judge(judge: str, items: Sequence[BenchItem], judge_model: str | None = None,
               device: str = "cpu") -> RelationJudge:
    """The judge named by `judge` ("auto": the verifier when every item has a world scene, else the VLM judge)."""
    if judge == "auto":
        judge = "verifier" if items and all("scene" in i.data for i in items) else "qwen_vl"
    if judge == "verifier":
        return VerifierJudge()
    if judge == "qwen_vl":
        if judge_model is None:
            print("warning: no --judge_model given: the Qwen-VL judge is a tiny random model (for tests only)")
        return VLMJudge(judge_model, device=device)
    raise ValueError(f"unknown judge {judge!r}: choose auto, verifier or qwen_vl")
