"""The gold file, its scorer (`zoo.data.relation_eval`), `zoo data relations` and the optional spaCy tagger."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from zoo.data.relation_eval import GoldError, evaluate, read_gold
from zoo.data.relations import find_relations
from zoo.data.relations_nlp import NLPUnavailable, SpacyTagger, get_finder

GOLD = Path(__file__).parent / "data" / "relations_gold.jsonl"
ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "benchmarks"


def _row(prompt: str, *relations: tuple[str, str, str], kind: str = "k") -> dict:
    """A gold row whose spans are the first occurrences of the given texts."""
    def span(text: str) -> dict:
        start = prompt.index(text)
        return {"text": text, "start": start, "end": start + len(text)}

    return {"prompt": prompt, "kind": kind, "split": "dev",
            "relations": [{"subject": span(s), "phrase": span(p), "object": span(o)} for s, p, o in relations]}


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_gold_file_has_150_labelled_prompts_of_every_kind_in_a_dev_and_a_held_out_part():
    rows = read_gold(GOLD)  # every span is checked against its prompt
    assert len(rows) >= 150 and len({r["prompt"] for r in rows}) == len(rows)
    assert {r["kind"] for r in rows} == {"templated", "photo_of", "compound", "3d", "dense"}
    splits = {"dev", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7",
              "heldout8", "heldout9", "heldout10", "heldout11", "heldout12", "heldout13"}
    assert Counter(r["split"] for r in rows).keys() == splits
    assert sum(r["prompt"].lower().startswith("a photo of") for r in rows) >= 30


@pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/benchmarks is absent")
@pytest.mark.parametrize("part, seed, short, dense, pools", [
    ("heldout4", "17004", "44", "44", None), ("heldout5", "17005", "7", "44", None),
    ("heldout6", "17006", "0", "45", None), ("heldout7", "17007", "0", "45", None),
    ("heldout8", "17008", "0", "45", None), ("heldout9", "17009", "0", "45", None),
    ("heldout10", "17010", "0", "36", "dense_tiif,dense_unigen_long"),
    ("heldout11", "17011", "0", "36", "dense_tiif,dense_unigen_long"),
    ("heldout12", "17012", "0", "36", "dense_tiif,dense_unigen_long"),
    ("heldout13", "17013", "0", "36", "dense_tiif,dense_unigen_long")])
def test_the_drawn_parts_are_the_seeded_draws_from_the_benchmark_files(part, seed, short, dense, pools):
    script = ROOT / "benchmarks" / "relations_gold_draw.py"
    done = subprocess.run([sys.executable, str(script), "--benchmarks", str(BENCH), "--gold", str(GOLD),
                           "--part", part, "--seed", seed, "--short", short, "--dense", dense]
                          + (["--dense_pools", pools] if pools else []),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    drawn = [json.loads(line) for line in done.stdout.splitlines()]
    labelled = [row for row in read_gold(GOLD) if row["split"] == part]
    assert [(d["prompt"], d["source"]) for d in drawn] == [(r["prompt"], r["source"]) for r in labelled]
    assert [d["pool"] == "short" for d in drawn] == [r["kind"] != "dense" for r in labelled]


def test_bad_gold_rows_name_the_file_line_and_key(tmp_path):
    good = _row("A cat is left of a dog.", ("A cat", "left of", "a dog"))
    bad_text = json.loads(json.dumps(good))
    bad_text["relations"][0]["object"]["text"] = "a cow"
    cases = [("{not json", ":2: not JSON"), (json.dumps({"prompt": 3, "relations": []}), "needs 'prompt'"),
             (json.dumps(bad_text), "'object' text 'a cow' is not the prompt's 'a dog'")]
    for line, message in cases:
        path = tmp_path / "gold.jsonl"
        path.write_text(json.dumps(good) + "\n" + line + "\n")
        with pytest.raises(GoldError, match=f"{path}:2") as err:
            read_gold(path)
        assert message in str(err.value)


def test_scores_follow_their_definitions(tmp_path):
    rows = [_row("A dining table is to the left of a couch.", ("A dining table", "to the left of", "a couch")),
            _row("A castle stands tall against a blue sky.", ("A castle", "against", "a blue sky")),  # missed
            _row("A cat is under the kitchen table.", ("A cat", "under", "table"))]  # found, but not strict
    scores = evaluate(read_gold(_write(tmp_path / "g.jsonl", rows)))["by_kind"]["all"]
    assert (scores["found_relations"], scores["gold_relations"]) == (2, 3)
    assert scores["precision"] == 0.5 and scores["recall"] == round(1 / 3, 4)
    assert scores["strict_prompt_accuracy"] == round(1 / 3, 4)
    assert scores["head_precision"] == 1.0 and scores["head_recall"] == round(2 / 3, 4)
    assert scores["perturbed_rate"] == round(2 / 3, 4) and scores["broken_rate"] == 0.5  # the cut one is broken


def test_zoo_data_relations_prints_what_it_finds_and_scores_a_gold_file(tmp_path, capsys):
    from zoo.cli import main

    rows = [_row("a photo of a dog right of a teddy bear", ("a dog", "right of", "a teddy bear"), kind="photo_of"),
            _row("A lamp on side of a bed.", ("A lamp", "on side of", "a bed"), kind="templated")]
    gold = _write(tmp_path / "gold.jsonl", rows)
    out = tmp_path / "found.json"
    main(["data", "relations", str(gold), "--gold", str(gold), "--out", str(out)])
    printed = capsys.readouterr().out
    assert "a dog | right of | a teddy bear  (right_of)" in printed and "perturbed: " in printed
    assert "| photo_of | 1 | 1 | 1.000 | 1.000 | 1.000 | 1.000 |" in printed
    result = json.loads(out.read_text())
    assert result["finder"] == "rules" and result["scores"]["all"]["strict_prompt_accuracy"] == 1.0
    assert [p["relations"][0]["subject"] for p in result["prompts"]] == ["a dog", "A lamp"]


def test_spacy_tags_replace_the_rule_guess_for_unlisted_words():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")  # no model file can be installed here: a rule pipeline sets the tags
    nlp.add_pipe("attribute_ruler").add([[{"LOWER": "smeeth"}]], {"TAG": "VB"})
    # after a singular noun the rules guess an unknown word is a noun (after a plural one, "The wugs smeeth beside",
    # they read it as the plural's verb: pattern group 68)
    text = "The wug smeeth beside a dog."
    assert find_relations(text)[0].subject.text == "The wug smeeth"
    assert find_relations(text, tagger=SpacyTagger(nlp=nlp))[0].subject.text == "The wug"
    with pytest.raises(NLPUnavailable, match="sets no part-of-speech tags"):
        SpacyTagger(nlp=spacy.blank("en"))


def test_finder_choice_reports_a_missing_spacy_model_or_falls_back():
    pytest.importorskip("spacy")
    with pytest.raises(NLPUnavailable, match="'no_such_model' is not installed: python -m spacy download"):
        get_finder("spacy", "no_such_model")
    finder, used = get_finder("auto", "no_such_model")
    assert finder is find_relations and used.startswith("rules (spaCy not used")
    with pytest.raises(ValueError, match="unknown finder 'parser'"):
        get_finder("parser")


MIXED = "A cup is on the table, and a cat is to the left of a dog."  # only the left-of relation is gold below


def test_scores_over_several_seeds_give_the_mean_broken_rate_and_its_spread(tmp_path):
    import numpy as np

    from zoo.data.perturb_text import perturb_prompt
    from zoo.data.relation_eval import evaluate_seeds

    rows = read_gold(_write(tmp_path / "g.jsonl", [_row(MIXED, ("a cat", "to the left of", "a dog"))]))
    # with the uniform order, a seed whose draw changes "on" (no gold relation) gives a broken rate of 1, else 0
    picks = [perturb_prompt(MIXED, 1, np.random.default_rng(s), prefer="random").changes[0]["index"]
             for s in range(3, 23)]
    expected = [float(p == 0) for p in picks]
    assert 0 < sum(expected) < 20
    result = evaluate_seeds(rows, seeds=20, seed=3, prefer="random")
    scores = result["by_kind"]["all"]
    assert result["seeds"] == list(range(3, 23)) and scores["seeds"] == 20
    assert scores["broken_rates"] == expected and scores["broken_rate"] == round(float(np.mean(expected)), 4)
    assert scores["broken_rate_sd"] == round(float(np.std(expected, ddof=1)), 4)
    assert (scores["broken_rate_min"], scores["broken_rate_max"]) == (0.0, 1.0)
    assert scores["precision"] == 0.5 and scores["recall"] == 1.0  # the seed-independent figures stay
    assert evaluate_seeds(rows, seeds=1, seed=3) == evaluate(rows, seed=3)  # one seed: the single-seed result
    assert evaluate_seeds(rows, seeds=5, seed=3, prefer="sure")["by_kind"]["all"]["broken_rate_max"] == 0.0
    with pytest.raises(ValueError, match="seeds must be an integer >= 1"):
        evaluate_seeds(rows, seeds=0)


def test_zoo_data_relations_reports_the_mean_over_seeds(tmp_path, capsys):
    from zoo.cli import main

    gold = _write(tmp_path / "gold.jsonl", [_row(MIXED, ("a cat", "to the left of", "a dog"), kind="dense")])
    out = tmp_path / "found.json"
    main(["data", "relations", str(gold), "--gold", str(gold), "--seeds", "4", "--seed", "2", "--prefer", "random",
          "--out", str(out)])
    printed = capsys.readouterr().out
    assert "perturbations over seeds 2-5" in printed and "| broken sd, min-max (4 seeds) |" in printed
    result = json.loads(out.read_text())
    assert result["perturbation_seeds"] == [2, 3, 4, 5] and len(result["scores"]["dense"]["broken_rates"]) == 4
    main(["data", "relations", str(gold), "--gold", str(gold), "--out", str(out)])  # default: one seed, as before
    printed = capsys.readouterr().out
    assert "seeds" not in printed and "| dense | 1 | 1 | 1.000 | 0.500 | 1.000 | 0.000 |" in printed
    assert "broken_rates" not in json.loads(out.read_text())["scores"]["dense"]
    with pytest.raises(SystemExit) as exit_:
        main(["data", "relations", str(gold), "--gold", str(gold), "--seeds", "0"])
    assert exit_.value.code != 0 and "seeds must be an integer >= 1" in capsys.readouterr().err
