"""Spatial relations in free text: parsing, perturbation by exactly N relations, the checked LM rewriter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zoo.data.perturb_text import CausalLMRewriter, TextPerturbation, apply_edits, edits_for, perturb_prompt, \
    rewrite_checked
from zoo.data.relations import canonical, find_relations

HAND = [json.loads(line) for line in (Path(__file__).parent / "data" / "relations50.jsonl").read_text().splitlines()]
BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def _triples(text: str) -> list[list]:
    return [[r.subject.text, r.phrase.text, r.object.text if r.object else None] + ([r.object2.text] if r.object2
                                                                                      else [])
            for r in find_relations(text)]


def _changed(a: str, b: str) -> int:
    ra, rb = find_relations(a), find_relations(b)
    assert len(ra) == len(rb), (a, b)
    return sum(canonical(x) != canonical(y) for x, y in zip(ra, rb))


def test_hand_written_set_has_fifty_prompts_with_expected_relations():
    assert len(HAND) == 50
    for row in HAND:
        assert _triples(row["prompt"]) == row["relations"], row["prompt"]


@pytest.mark.parametrize("kind", ["flip", "swap", "axis"])
def test_each_kind_rewrites_the_first_relation_as_expected(kind):
    for row in HAND:
        relation = find_relations(row["prompt"])[0]
        edits = edits_for(relation, kind, row["prompt"])
        got = apply_edits(row["prompt"], edits) if edits else None
        assert got == row[kind], (row["prompt"], kind)


def test_perturbed_prompts_differ_in_exactly_the_announced_number_of_relations():
    rng = np.random.default_rng(0)
    made = {1: 0, 2: 0, 3: 0}
    for row in HAND:
        for count in range(1, min(3, len(row["relations"])) + 1):
            result = perturb_prompt(row["prompt"], count, rng)
            if count == 1:
                assert result is not None, row["prompt"]
            if result is None:
                continue
            made[count] += 1
            assert result.count == count and len(result.changes) == count
            assert _changed(row["prompt"], result.text) == count, (row["prompt"], result.text)
            assert len({c["index"] for c in result.changes}) == count
    assert made[1] == 50 and made[2] >= 8 and made[3] >= 2, made


def test_too_many_perturbations_or_no_relation_gives_none():
    rng = np.random.default_rng(0)
    assert perturb_prompt("A cat is to the left of a dog.", 2, rng) is None
    assert perturb_prompt("A beautiful sunset, painted in oil with bold colours.", 1, rng) is None
    assert find_relations("A bowl of soup, steaming.") == []


def test_swap_recases_a_moved_sentence_start_and_keeps_articles():
    text = "A cat is to the left of an owl."
    assert apply_edits(text, edits_for(find_relations(text)[0], "swap")) == "An owl is to the left of a cat."


def test_rewriter_output_is_kept_only_when_it_parses_to_the_same_relations():
    perturbation = perturb_prompt("A cat is to the left of a dog.", 1, np.random.default_rng(1), kinds=("flip",))
    assert isinstance(perturbation, TextPerturbation)
    before = perturbation.text
    assert not rewrite_checked(perturbation, CausalLMRewriter())  # a tiny random LM writes noise: refused
    assert perturbation.text == before and not perturbation.rewritten
    assert rewrite_checked(perturbation, lambda text: "Picture this: " + text)  # a faithful rephrasing
    assert perturbation.rewritten and perturbation.text.endswith(before)
    assert not rewrite_checked(perturbation, lambda text: "A dog is above a cat.")  # changes the relation


def _spatial_prompts() -> dict[str, list[str]]:
    from zoo.bench.prompts import UNIGEN_LAYOUT, load_tiif, load_unigenbench

    sets = {}
    for length in ("short", "long"):
        items = load_tiif(BENCH / "tiif/testmini_prompts", BENCH / "tiif/testmini_eval_prompts", length=length)
        sets[f"tiif_{length}"] = [i.prompt for i in items if "2d" in i.category or "3d" in i.category]
    for name in ("test_prompts_en.csv", "test_prompts_en_long.csv"):
        items = load_unigenbench(BENCH / "unigenbench" / name, errors=[])
        sets[name] = [i.prompt for i in items if set(i.data["testpoints"]) & set(UNIGEN_LAYOUT.values())]
    return sets


@pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/benchmarks is absent")
def test_relations_are_found_in_ninety_percent_of_real_spatial_benchmark_prompts():
    for name, prompts in _spatial_prompts().items():
        assert len(prompts) >= 80, name
        found = sum(bool(find_relations(p)) for p in prompts) / len(prompts)
        assert found >= 0.9, (name, found)
        rng = np.random.default_rng(0)
        for prompt in prompts[:40]:
            result = perturb_prompt(prompt, 1, rng)
            if result is not None:
                assert _changed(prompt, result.text) == 1
