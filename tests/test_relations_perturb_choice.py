"""Which relation `perturb_prompt` changes: the relations surest to be spatial first (`prefer="sure"`, the default),
random within a tier; one-tier prompts are perturbed exactly as with `prefer="random"`."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data.perturb_text import doubtful_entity, perturb_prompt, phrase_tier, relation_tier
from zoo.data.relation_lexicon import ABSOLUTE_PHRASES, PAIR_PHRASES
from zoo.data.relations import find_relations
from zoo.data.relation_types import Span, TextRelation

SEEDS = range(20)


def _relation(phrase: str, subject: str = "a cat", obj: str | None = "a dog") -> TextRelation:
    return TextRelation(Span(0, len(subject), subject), Span(0, len(phrase), phrase), "x",
                        Span(0, len(obj), obj) if obj else None)


def _picks(text: str, prefer: str) -> list[int | None]:
    out = []
    for seed in SEEDS:
        result = perturb_prompt(text, 1, np.random.default_rng(seed), prefer=prefer)
        out.append(result.changes[0]["index"] if result else None)
    return out


@pytest.mark.parametrize("phrase,tier", [
    ("to the left of", 0), ("on the right side of", 0), ("above", 0), ("below", 0), ("beneath", 0), ("behind", 0),
    ("in front of", 0), ("next to", 0), ("beside", 0), ("on top of", 0), ("atop", 0), ("between", 0),
    ("opposite", 0), ("in the background", 0), ("at the edge of", 0), ("directly above", 0), ("On top of", 0),
    ("under", 1), ("near", 1), ("beyond", 1), ("surrounded by", 1), ("at the heart of", 1),
    ("on", 2), ("upon", 2), ("at", 2), ("over", 2), ("across", 2), ("around", 2), ("along", 2), ("against", 2),
    ("by", 2), ("within", 2), ("among", 2), ("On", 2),
])
def test_phrase_tiers(phrase, tier):
    assert phrase_tier(_relation(phrase)) == tier


def test_every_lexicon_phrase_has_a_tier_and_every_side_phrase_is_sure():
    for phrase in list(PAIR_PHRASES) + list(ABSOLUTE_PHRASES):
        tier = phrase_tier(_relation(phrase))
        assert tier in (0, 1, 2), phrase
        if {"left", "right"} & set(phrase.split()):
            assert tier == 0, phrase


def test_doubtful_entities_lower_the_tier():
    assert doubtful_entity(Span(0, 4, "them")) and doubtful_entity(Span(0, 10, "the quaint"))
    assert doubtful_entity(Span(0, 8, "both sit"))
    assert not doubtful_entity(Span(0, 13, "a blue square")) and not doubtful_entity(Span(0, 9, "the table"))
    assert relation_tier(_relation("behind", obj="them")) == 1
    assert relation_tier(_relation("on", obj="them")) == 2
    assert relation_tier(_relation("behind")) == 0


def test_the_sure_relation_is_changed_where_the_random_pick_takes_the_uncertain_one():
    text = "A cup is on the table, and a cat is to the left of a dog."
    found = find_relations(text)
    assert [r.phrase.text for r in found] == ["on", "to the left of"]
    assert 0 in _picks(text, "random")  # the uniform order takes "on" for some seeds
    assert set(_picks(text, "sure")) == {1}


def test_a_pronoun_object_is_changed_after_a_sure_relation():
    text = "A boy stands behind them, and a cat sits to the right of a dog."
    assert 0 in _picks(text, "random")
    assert set(_picks(text, "sure")) == {1}


def test_within_a_tier_the_order_stays_random():
    text = "A vase stands on a shelf beside a clock, and a lamp is behind the sofa."
    picks = _picks(text, "sure")
    assert 0 not in picks and {1, 2} <= set(picks)


@pytest.mark.parametrize("text", [
    "A red ball is above a blue box, and a green cone is below the blue box.",
    "A cat is to the left of a dog.",
    "A cup is on the table, and a plate is on the chair.",
    "A lamp is behind the sofa, and a rug is in front of the sofa, and a chair is next to the lamp.",
])
def test_one_tier_prompts_are_perturbed_as_before(text):
    tiers = {relation_tier(r) for r in find_relations(text)}
    assert len(tiers) == 1
    for count in (1, 2, 3):
        for seed in SEEDS:
            a = perturb_prompt(text, count, np.random.default_rng(seed), prefer="sure")
            b = perturb_prompt(text, count, np.random.default_rng(seed), prefer="random")
            assert (a.text, a.changes) == (b.text, b.changes) if b else a is None


def test_the_uncertain_relation_is_still_changed_when_the_sure_one_cannot_be(monkeypatch):
    import zoo.data.perturb_text as perturb_text

    edits_for = perturb_text.edits_for
    monkeypatch.setattr(perturb_text, "edits_for", lambda relation, kind, text=None: None
                        if relation.phrase.text == "to the left of" else edits_for(relation, kind, text))
    text = "A cup is on the table, and a cat is to the left of a dog."
    assert set(_picks(text, "sure")) == {0}


def test_prefer_is_checked():
    with pytest.raises(ValueError):
        perturb_prompt("A cat is to the left of a dog.", 1, np.random.default_rng(0), prefer="best")
