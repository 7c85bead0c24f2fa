"""`zoo data construct`, the paper's rule: original vs perturbed prompt, judged per relation, reviewed, packed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from zoo.bench.prompts import BenchItem
from zoo.bench.spatialbench import load_spatialbench
from zoo.construct.judges import VerifierJudge, world_relations
from zoo.construct.review import merge_review, write_review
from zoo.construct.rules import perturbed_chunk
from zoo.construct.run import construct
from zoo.data.pack import pack_pairs
from zoo.construct.prompts import read_prompts
from zoo.data.records import decode_pair
from zoo.data.relations import find_relations
from zoo.data.stream import ErrorLog, iter_tar_samples
from zoo.world.render import render
from zoo.world.scene import Scene
from zoo.world.pairs import PairSpec

from test_construct import POLICY


def _renderer(items: list[BenchItem], size: int = 48):
    """The SpatialShapes renderer as a text-to-image generator: it draws the scene the prompt's text describes."""
    objects = {item.prompt.lower(): item.data["scene"] for item in items}
    sampler = PairSpec(size=size).sampler

    def generate(texts: list[str], seeds: list[int]) -> torch.Tensor:
        out = []
        for text, seed in zip(texts, seeds):
            scene_json = next(s for s in objects.values())
            for s in objects.values():  # the scene whose objects the text names
                if all(f"{o['colour']} {o['shape']}" in text.lower() for o in s["objects"]):
                    scene_json = s
            relations = world_relations(find_relations(text), scene_json)
            scene = Scene.from_json({**scene_json, "relations": relations})
            rng = np.random.default_rng(seed)
            layout = None
            while layout is None:
                layout = sampler.sample_layout(scene, sampler.sample_sides(len(scene.objects), rng), rng)
            out.append(torch.from_numpy(render(scene.objects, layout, size)).permute(2, 0, 1).float() / 255)
        return torch.stack(out)

    return generate


def _seeds(index: int, k: int) -> int:
    return index * 100 + k


def test_kept_pairs_pass_every_original_relation_and_fail_one_when_perturbed(spatial_set, tmp_path):
    items = load_spatialbench(str(spatial_set / "prompts" / "train-*.tar"), 12)
    pairs, stats = perturbed_chunk(items, _renderer(items), VerifierJudge(), 3, _seeds, 0, multi_fraction=0.5)
    assert sum(stats["reasons"].values()) == len(items) and stats["reasons"].get("kept", 0) >= 6
    assert len(pairs) == stats["reasons"]["kept"]
    judge = VerifierJudge()
    for pair in pairs:
        meta = pair["meta"]
        item = next(i for i in items if i.id == meta["item"])
        assert meta["n_perturbations"] == len(meta["perturbations"]) >= 1
        chosen, rejected = judge.judge([pair["chosen"], pair["rejected"]], item, find_relations(item.prompt))
        assert chosen == meta["judge"]["chosen"] and min(chosen) == 1.0  # the original passes every relation
        assert rejected == meta["judge"]["rejected"] and min(rejected) == 0.0  # the perturbed fails one
        assert meta["perturbed_relations"] is not None and meta["perturbed_relations"] != meta["relations"]
    assert Counter(str(p["meta"]["n_perturbations"]) for p in pairs).keys() <= {"1", "2", "3"}
    # the review sheet: one row per pair with its images; a declined row is left out by `zoo data pack`
    rows = write_review(tmp_path / "review", "train-000000", pairs)
    assert merge_review(tmp_path / "review") == len(pairs) == len(rows)
    assert (tmp_path / "review" / rows[0]["sheet"]).is_file()
    rows[1]["accept"] = False
    (tmp_path / "review" / "review.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    packed = pack_pairs(tmp_path / "review" / "review.jsonl", tmp_path / "packed", progress=False)
    assert packed["declined_by_review"] == 1 and packed["packed"] == len(pairs) - 1 and packed["bad"] == 0
    stored = [decode_pair(raw) for raw in iter_tar_samples(str(tmp_path / "packed" / "train-000000.tar"),
                                                           ErrorLog("raise", "test"))]
    assert [p["meta"]["key"] for p in stored] == [r["key"] for i, r in enumerate(rows) if i != 1]
    assert np.array_equal(np.array(stored[0]["chosen"].convert("RGB")), pairs[0]["chosen"])


def test_a_failing_generator_or_judge_costs_only_its_prompt(spatial_set):
    items = load_spatialbench(str(spatial_set / "prompts" / "train-*.tar"), 6)
    generate = _renderer(items)
    bad = items[2].prompt

    def flaky(texts, seeds):
        if bad in texts:
            raise RuntimeError("out of memory (simulated on one prompt)")
        return generate(texts, seeds)

    class FlakyJudge(VerifierJudge):
        def judge(self, images, item, relations):
            if item.id == items[4].id:
                raise ValueError("judge crashed on this one")
            return super().judge(images, item, relations)

    no_relation = BenchItem("plain", "A bowl of soup, steaming.", "", {})
    pairs, stats = perturbed_chunk(items + [no_relation], flaky, FlakyJudge(), 2, _seeds, 0)
    reasons = stats["reasons"]
    assert reasons["generator_error"] == 1 and reasons["judge_error"] == 1 and reasons["no_relation"] == 1
    assert sum(reasons.values()) == 7
    assert any(items[2].id in f and "generator" in f for f in stats["failures"])
    assert any(items[4].id in f and "judge crashed" in f for f in stats["failures"])
    assert {p["meta"]["item"] for p in pairs} <= {i.id for i in items} - {items[2].id, items[4].id}


def test_prompt_files_report_bad_lines_and_empty_files(tmp_path):
    good = tmp_path / "prompts.jsonl"
    good.write_bytes(b'{"prompt": "A cat is to the left of a dog."}\n\xff\xfe broken\n'
                     b'{"short_description": "A cup is behind a vase.", "type": "3d"}\nnot json\n{"other": 1}\n')
    items, problems = read_prompts(str(good))
    assert [i.prompt for i in items] == ["A cat is to the left of a dog.", "A cup is behind a vase."]
    assert len(problems) == 3 and any(":2: not UTF-8" in p for p in problems)
    assert any(":4: not JSON" in p for p in problems) and any(":5: no prompt" in p for p in problems)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert read_prompts(str(empty)) == ([], [f"{empty}: no prompts"])
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        read_prompts(str(tmp_path / "missing.jsonl"))


def test_construct_on_free_text_with_a_qwen_vl_judge_writes_pairs_counts_and_review_rows(tmp_path):
    experiment = tmp_path / "policy.yaml"
    experiment.write_text(yaml.safe_dump({"model": {"init_args": {"policy": POLICY}}}))
    prompts = tmp_path / "prompts.txt"
    prompts.write_bytes("A cat is to the left of a dog.\nA red ball is above a green cube, and a lamp is behind "
                        "the sofa.\nA sunset, painted in oil.\nA cup is placed next to a teapot.\n".encode()
                        + b"\xff bad line\n")
    out = tmp_path / "constructed"
    kwargs = dict(judge="qwen_vl", count=None, images_per_prompt=2, steps=2, threshold=0.5, pairs_per_prompt=2,
                  prompts_per_shard=2, batch_size=8)
    summary = construct(str(prompts), out=out, experiment=str(experiment), **kwargs)
    assert summary["prompts"] == 4 and summary["complete"] and summary["shards_done"] == 2
    assert sum(summary["reasons"].values()) == 4 and summary["reasons"]["no_relation"] == 1
    assert any("not UTF-8" in p for p in summary["input_problems"])
    assert summary["no_pair_prompts"][0]["prompt"] == "A sunset, painted in oil."
    shards = sorted(out.glob("train-*.tar"))
    pairs = [decode_pair(raw) for s in shards for raw in iter_tar_samples(str(s), ErrorLog("raise", "test"))]
    assert len(pairs) == summary["pairs"] == summary["review_rows"]
    for pair in pairs:
        judged = pair["meta"]["judge"]
        assert min(judged["chosen"]) >= 0.5 > min(judged["rejected"])
        assert pair["meta"]["perturbed_prompt"] != pair["prompt"]
    # a second run reuses every finished chunk and changes nothing
    again = construct(str(prompts), out=out, experiment=str(experiment), **kwargs)
    assert again["shards_reused"] == 2 and again["pairs"] == summary["pairs"]
    # one review row per pair, with its images and sheet (pack honouring edits: the renderer test above)
    rows = [json.loads(line) for line in (out / "review" / "review.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rows] == [p["key"] for p in pairs]
    assert all((out / "review" / r["chosen"]).is_file() and (out / "review" / r["sheet"]).is_file() for r in rows)


def test_construct_with_an_empty_prompt_file_reports_and_completes(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    summary = construct(str(empty), out=tmp_path / "out", experiment="no-config-needed.yaml")
    assert summary["prompts"] == 0 and summary["pairs"] == 0 and summary["input_problems"] == [f"{empty}: no prompts"]
    assert json.loads((tmp_path / "out" / "construct_summary.json").read_text())["prompts"] == 0


def test_ranks_split_the_chunks_and_together_equal_one_process(spatial_set, tmp_path):
    experiment = tmp_path / "policy.yaml"
    experiment.write_text(yaml.safe_dump({"model": {"init_args": {"policy": POLICY}}}))
    prompts = str(spatial_set / "prompts" / "train-*.tar")
    kwargs = dict(count=8, images_per_prompt=2, steps=2, prompts_per_shard=2, noise_level=0.0)
    single = construct(prompts, out=tmp_path / "single", experiment=str(experiment), **kwargs)
    first = construct(prompts, out=tmp_path / "ranks", experiment=str(experiment), rank=0, world_size=2, **kwargs)
    assert not first["complete"] and first["shards_done"] == 2
    assert sorted(p.name for p in (tmp_path / "ranks").glob("*.tar")) == ["train-000000.tar", "train-000002.tar"]
    both = construct(prompts, out=tmp_path / "ranks", experiment=str(experiment), rank=1, world_size=2, **kwargs)
    assert both["complete"] and both["reasons"] == single["reasons"] and both["pairs"] == single["pairs"]
    assert sum(single["reasons"].values()) == 8


BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


@pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/benchmarks is absent")
def test_benchmark_prompt_files_are_read_by_their_loaders_and_filtered_to_spatial_items():
    tiif, problems = read_prompts(str(BENCH / "tiif"), suite="tiif", variant="long", spatial_only=True)
    assert len(tiif) == 88 and not problems and all("2d" in i.category or "3d" in i.category for i in tiif)
    unigen, _ = read_prompts(str(BENCH / "unigenbench" / "test_prompts_en.csv"), suite="unigenbench",
                             spatial_only=True)
    assert len(unigen) == 134
    geneval, _ = read_prompts(str(BENCH / "geneval" / "evaluation_metadata.jsonl"), count=20, suite="geneval",
                              spatial_only=True)
    assert len(geneval) == 20 and all(i.category == "position" for i in geneval)
    assert sum(bool(find_relations(i.prompt)) for i in geneval) == 20
