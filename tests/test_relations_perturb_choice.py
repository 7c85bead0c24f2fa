"""Which relation `perturb_prompt` changes: the relations surest to be spatial first (`prefer="sure"`, the default),
random within a tier; one-tier prompts are perturbed exactly as with `prefer="random"`."""

from __future__ import annotations

import json

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


MIXED = "A cup is on the table, and a cat is to the left of a dog."  # "on" is tier 2, "to the left of" tier 0


def test_zoo_data_relations_perturbs_by_the_prefer_option(tmp_path):
    from zoo.cli import main

    seed = _picks(MIXED, "random").index(0)  # a seed whose uniform draw changes "on"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(MIXED + "\n")
    perturbed = {}
    for prefer in ("sure", "random"):
        out = tmp_path / f"{prefer}.json"
        main(["data", "relations", str(prompts), "--seed", str(seed), "--prefer", prefer, "--out", str(out)])
        perturbed[prefer] = json.loads(out.read_text())["prompts"][0]["perturbed"]
    assert "on the table" in perturbed["sure"] and "to the left of a dog" not in perturbed["sure"]
    assert "on the table" not in perturbed["random"] and "to the left of a dog" in perturbed["random"]


def test_zoo_data_relations_scores_the_gold_file_with_the_prefer_option(tmp_path):
    from zoo.data.relation_eval import evaluate, read_gold

    start = MIXED.index("a cat")
    gold_row = {"prompt": MIXED, "kind": "dense", "relations": [{  # only the left-of relation is gold
        "subject": {"text": "a cat", "start": start, "end": start + 5},
        "phrase": {"text": "to the left of", "start": MIXED.index("to the left"), "end": MIXED.index(" a dog")},
        "object": {"text": "a dog", "start": MIXED.index("a dog"), "end": len(MIXED) - 1}}]}
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps(gold_row) + "\n")
    rows = read_gold(gold)
    seed = _picks(MIXED, "random").index(0)
    assert evaluate(rows, seed=seed, prefer="random")["details"][0]["perturbation"] == "non_spatial"
    assert evaluate(rows, seed=seed, prefer="sure")["details"][0]["perturbation"] == "ok"
    assert evaluate(rows, seed=seed)["details"][0]["perturbation"] == "ok"  # "sure" is the default


def test_construct_perturbs_by_the_prefer_option():
    from zoo.bench.prompts import BenchItem
    from zoo.construct.rules import perturbation_for

    items = [BenchItem(f"p{i}", MIXED, "dense") for i in range(20)]
    sure = {perturbation_for(item, 0, 0.0, prefer="sure").changes[0]["index"] for item in items}
    uniform = {perturbation_for(item, 0, 0.0, prefer="random").changes[0]["index"] for item in items}
    assert sure == {1} and uniform == {0, 1}
    assert {perturbation_for(item, 0, 0.0).changes[0]["index"] for item in items} == {1}  # the default


def test_zoo_data_construct_passes_the_prefer_option_to_the_rule(tmp_path, monkeypatch):
    import zoo.construct.run as run
    from zoo.cli import main

    seen = []

    def chunk(items, *args, prefer="unset", **kwargs):
        seen.append(prefer)
        return [], {"prompts": len(items), "reasons": {}, "failures": [], "no_pair": []}

    monkeypatch.setattr(run, "build_policy", lambda *args, **kwargs: None)  # no generator or judge is built
    monkeypatch.setattr(run, "make_judge", lambda *args, **kwargs: None)
    monkeypatch.setattr(run, "perturbed_chunk", chunk)
    prompts, experiment = tmp_path / "prompts.txt", tmp_path / "policy.yaml"
    prompts.write_text(MIXED + "\n")
    experiment.write_text("{}\n")
    for prefer, out in (([], "a"), (["--prefer", "random"], "b"), (["--prefer", "sure"], "c")):
        main(["data", "construct", str(prompts), "--out", str(tmp_path / out), "--experiment", str(experiment)]
             + prefer)
    assert seen == ["sure", "random", "sure"]
    with pytest.raises(ValueError, match="unknown prefer 'best'"):
        run.construct(str(prompts), out=tmp_path / "d", experiment=str(experiment), prefer="best")


@pytest.mark.parametrize("verb", ["relations", "construct"])
def test_the_prefer_option_explains_its_choices_and_refuses_others(verb, tmp_path, capsys):
    from zoo.cli import PROJECT_COMMANDS, _function_parser, main

    text = " ".join(_function_parser(PROJECT_COMMANDS["data"][verb]).format_help().split())
    assert "--prefer {sure,random}" in text and "surest are spatial first" in text and "uniformly random" in text
    argv = ["data", verb, "p.txt", "--prefer", "best"] + (["--out", "o", "--experiment", "x.yaml"]
                                                         if verb == "construct" else [])
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "best" in capsys.readouterr().err
