"""The three perturbations of world.md: flip, swap and rotate one relation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.world.scene import Relation, Scene
from zoo.world.spec import HORIZONTAL, OPPOSITE, PLANAR, VERTICAL

KINDS = ("flip", "swap", "rotate")


@dataclass(frozen=True)
class Perturbation:
    """Which edit was applied to which relation (its index in the prompt)."""

    kind: str
    relation: int

    def to_json(self) -> dict:
        """{kind, relation}, as stored in shards."""
        return {"kind": self.kind, "relation": self.relation}


def kinds_for(relation: Relation) -> tuple[str, ...]:
    """Perturbation kinds that apply to a relation (depth relations cannot rotate)."""
    return KINDS if relation.phrase in PLANAR else ("flip", "swap")


def apply(relation: Relation, kind: str, rng: np.random.Generator) -> Relation:
    """One perturbed copy of a relation."""
    if kind == "flip":
        return Relation(relation.subject, OPPOSITE[relation.phrase], relation.object)
    if kind == "swap":
        return Relation(relation.object, relation.phrase, relation.subject)
    if kind == "rotate":
        if relation.phrase not in PLANAR:
            raise ValueError(f"cannot rotate the depth relation {relation.phrase!r}")
        targets = VERTICAL if relation.phrase in HORIZONTAL else HORIZONTAL
        return Relation(relation.subject, targets[int(rng.integers(2))], relation.object)
    raise ValueError(f"unknown perturbation kind {kind!r}; expected one of {KINDS}")


def perturb(scene: Scene, count: int, rng: np.random.Generator) -> tuple[Scene, list[Perturbation]]:
    """Apply `count` perturbations to different relations of a scene."""
    if not 1 <= count <= len(scene.relations):
        raise ValueError(f"cannot perturb {count} of {len(scene.relations)} relations")
    chosen = sorted(rng.choice(len(scene.relations), size=count, replace=False).tolist())
    relations = list(scene.relations)
    edits = []
    for idx in chosen:
        options = kinds_for(relations[idx])
        kind = options[int(rng.integers(len(options)))]
        relations[idx] = apply(relations[idx], kind, rng)
        edits.append(Perturbation(kind, idx))
    return scene.with_relations(relations), edits
