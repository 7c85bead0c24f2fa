"""Shared checks of the issue-17 pattern test files: found relations as triples, and well-formed perturbations."""

from __future__ import annotations

import numpy as np

from zoo.data.perturb_text import perturb_prompt
from zoo.data.relations import find_relations

Cases = dict[str, list[tuple[str, list[tuple]]]]


def triples(text: str) -> list[tuple]:
    """(subject, phrase, object[, object2]) texts of the relations found in `text`."""
    return [(r.subject.text, r.phrase.text, r.object.text if r.object else None)
            + ((r.object2.text,) if r.object2 else ()) for r in find_relations(text)]


def check_pattern(cases: Cases, pattern: str) -> None:
    """Every sentence of one pattern gives exactly its expected triples."""
    for text, expected in cases[pattern]:
        assert triples(text) == expected, text


def check_perturbations(cases: Cases) -> None:
    """A one-relation perturbation of every sentence with a relation is a changed, well-formed sentence with as many
    relations as the original."""
    rng = np.random.default_rng(0)
    for group in cases.values():
        for text, expected in group:
            if not expected:
                continue
            result = perturb_prompt(text, 1, rng)
            if result is None:
                continue
            assert result.text != text and result.problems == [], (text, result.text, result.problems)
            assert len(find_relations(text)) == len(find_relations(result.text)), (text, result.text)
