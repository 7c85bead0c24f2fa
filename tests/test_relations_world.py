"""The embedded path is unchanged: SpatialShapes world prompts give the relations and perturbations they gave before
the relation finder was rewritten (fixture made with the earlier finder, commit 9e889db)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zoo.data.perturb_text import perturb_prompt
from zoo.data.relations import find_relations

ROWS = [json.loads(line) for line in (Path(__file__).parent / "data" / "world_relations.jsonl").read_text().splitlines()]


def test_world_prompts_give_the_same_relations_as_before():
    assert len(ROWS) == 190
    for row in ROWS:
        assert [r.to_json() for r in find_relations(row["prompt"])] == row["relations"], row["prompt"]


def test_world_prompts_are_perturbed_exactly_as_before():
    made = 0
    for row in ROWS:
        for count in ("1", "2", "3"):
            result = perturb_prompt(row["prompt"], int(count), np.random.default_rng(row["seed"]))
            assert (result.text if result else None) == row["perturbed"][count], (row["prompt"], count)
            made += result is not None
    assert made > 400
