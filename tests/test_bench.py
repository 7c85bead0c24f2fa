"""Benchmark suites: loaders on the real prompt files and a DPG CSV in its published format, protocols, SpatialBench."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from zoo.bench.prompts import (DPG_COLUMNS, BenchFormatError, BenchItem, load_dpg, load_geneval, load_tiif,
                               load_unigenbench)
from zoo.bench.protocols import (dpg_question_scores, dpg_table, tiif_prompt_score, tiif_table,
                                 unigen_table)
from zoo.bench.spatialbench import load_spatialbench, spatialbench_table, verdict_means, verify_images
from zoo.world import PairSpec, make_pair

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchmarks is absent")


@needs_shared
def test_geneval_loader_counts_per_tag():
    items = load_geneval(SHARED / "geneval" / "evaluation_metadata.jsonl")
    assert Counter(i.category for i in items) == {"position": 100, "color_attr": 100, "two_object": 99,
                                                  "colors": 94, "single_object": 80, "counting": 80}
    position = next(i for i in items if i.category == "position")
    assert any("position" in obj for obj in position.data["include"])


@needs_shared
def test_tiif_loader_aligns_questions_and_groups_the_reported_columns():
    items = load_tiif(SHARED / "tiif" / "testmini_prompts", SHARED / "tiif" / "testmini_eval_prompts")
    assert len(items) == 277
    assert Counter(i.data["group"] for i in items if i.data["group"]) == {"BR": 32, "AR": 24, "RR": 32}
    assert all(len(i.data["questions"]) == len(i.data["answers"]) > 0 for i in items)
    long = load_tiif(SHARED / "tiif" / "testmini_prompts", SHARED / "tiif" / "testmini_eval_prompts", "long")
    assert [i.id for i in long] == [i.id for i in items] and long[0].prompt != items[0].prompt


@needs_shared
def test_unigenbench_loaders_count_layout_testpoints_and_report_the_malformed_row():
    short = load_unigenbench(SHARED / "unigenbench" / "test_prompts_en.csv")
    layout = Counter(tp for i in short for tp in i.data["testpoints"] if tp.startswith("Entity Layout"))
    assert len(short) == 600 and layout == {"Entity Layout - Two-Dimensional Space": 68,
                                            "Entity Layout - Three-Dimensional Space": 66}
    errors: list[str] = []
    long = load_unigenbench(SHARED / "unigenbench" / "test_prompts_en_long.csv", errors)
    assert len(long) == 599 and len(errors) == 1 and "index 509" in errors[0]
    with pytest.raises(BenchFormatError, match="test_prompts_en_long.csv:511"):
        load_unigenbench(SHARED / "unigenbench" / "test_prompts_en_long.csv")


def _write_dpg(path: Path) -> None:
    rows = [  # item, proposition, dependency, tuple prefix
        ("p1", 1, "0", "entity - whole (cat)", "Is there a cat?"),
        ("p1", 2, "0", "entity - whole (table)", "Is there a table?"),
        ("p1", 3, "1,2", "relation - spatial (cat, table, on)", "Is the cat on the table?"),
        ("p2", 1, "0", "entity - whole (dog)", "Is there a dog?"),
        ("p2", 2, "1", "relation - spatial (dog, door, left of)", "Is the dog left of the door?"),
    ]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(DPG_COLUMNS)
        for item, pid, dep, tup, question in rows:
            writer.writerow([item, f"prompt {item}", "kw", pid, dep, tup.split(" - ")[0], tup.split(" (")[0], tup,
                             question])


def test_dpg_csv_in_its_published_format_and_the_dependency_rule(tmp_path):
    _write_dpg(tmp_path / "dpg_bench.csv")
    items = load_dpg(tmp_path / "dpg_bench.csv")
    assert [i.id for i in items] == ["p1", "p2"] and [len(i.data["questions"]) for i in items] == [3, 2]
    assert items[0].data["questions"][2] == {"id": 3, "parents": [1, 2], "category": "relation - spatial",
                                             "question": "Is the cat on the table?"}
    p1 = dpg_question_scores(items[0].data["questions"], [True, False, True])  # the table is missing
    p2 = dpg_question_scores(items[1].data["questions"], [True, True])
    assert p1 == [1.0, 0.0, 0.0] and p2 == [1.0, 1.0]  # a yes whose parent failed scores 0
    table = dpg_table(items, [p1, p2])
    assert table["Relation / Spatial"] == 0.5 and table["entity - whole"] == pytest.approx(2 / 3)
    (tmp_path / "bad.csv").write_text("item_id,text\np1,hello\n")
    with pytest.raises(BenchFormatError, match="bad.csv: missing columns"):
        load_dpg(tmp_path / "bad.csv")


def test_tiif_and_unigen_protocols_aggregate_verdicts():
    items = [BenchItem("a", "x", "2d", {"answers": ["yes", "yes", "no"]}),
             BenchItem("b", "y", "color+3d", {"answers": ["yes", "no"]}),
             BenchItem("c", "z", "style", {"answers": ["yes"]})]
    scores = [tiif_prompt_score(items[0], ["Yes", "no", "no"]), tiif_prompt_score(items[1], ["yes", "no"]), 1.0]
    assert scores[:2] == [pytest.approx(2 / 3), 1.0]
    assert tiif_table(items, scores) == {"BR": pytest.approx(2 / 3), "AR": 1.0, "RR": pytest.approx(float("nan"),
                                                                                                     nan_ok=True)}
    two_d, three_d = "Entity Layout - Two-Dimensional Space", "Entity Layout - Three-Dimensional Space"
    u = [BenchItem("0", "p", "", {"testpoints": [two_d, "Style"]}), BenchItem("1", "q", "", {"testpoints": [two_d, three_d]})]
    assert unigen_table(u, [[1, 0], [0, 1]]) == {"Layout 2D": 0.5, "Layout 3D": 1.0}


def test_spatialbench_scores_renders_perfectly_and_perturbed_renders_as_predicted():
    pairs = [make_pair(PairSpec(size=48), 0, "test", i) for i in range(24)]
    scenes = [p["json"] for p in pairs]
    chosen = verify_images([p["chosen"] for p in pairs], scenes)
    rejected = verify_images([p["rejected"] for p in pairs], scenes)  # judged against the original prompt
    assert all(r["score"] == 1.0 and r["found"] == 1.0 for r in chosen)
    for p, r in zip(pairs, rejected):
        changed = sum(a != b for a, b in zip(p["json"]["relations"], p["json"]["perturbed_relations"]))
        assert changed >= 1
        assert r["score"] == pytest.approx(1 - changed / len(p["json"]["relations"]))
    items = [BenchItem(str(i), p["json"]["prompt"], f"{len(p['json']['relations'])} relations", {}) for i, p in
             enumerate(pairs)]
    table = spatialbench_table(items, rejected)
    assert table["Overall"] == pytest.approx(np.mean([r["score"] for r in rejected])) and table["Overall"] < 1.0


def test_placement_counts_only_relations_whose_two_objects_were_drawn():
    pairs = [make_pair(PairSpec(size=48), 0, "test", i) for i in range(24)]
    scenes = [p["json"] for p in pairs]
    chosen = verify_images([p["chosen"] for p in pairs], scenes)
    rejected = verify_images([p["rejected"] for p in pairs], scenes)  # every object drawn, some relations wrong
    relations = sum(len(s["relations"]) for s in scenes)
    assert verdict_means(chosen)["placement"] == 1.0 and verdict_means(chosen)["placement_n"] == relations
    wrong = sum(a != b for p in pairs for a, b in zip(p["json"]["relations"], p["json"]["perturbed_relations"]))
    assert verdict_means(rejected)["placement"] == pytest.approx(1 - wrong / relations)
    blank = verify_images([np.full_like(np.asarray(pairs[0]["chosen"]), 255)], scenes[:1])  # nothing drawn
    assert blank[0]["pairs_found"] == 0 and verdict_means(blank)["placement"] == 0.0


def test_spatialbench_reads_world_prompt_shards(spatial_set):
    items = load_spatialbench(str(spatial_set / "prompts" / "test-*.tar"))
    assert len(items) == 20 and all(i.category.endswith(("relation", "relations")) for i in items)
    assert load_spatialbench(str(spatial_set / "prompts" / "test-*.tar"), count=5)[0].id == items[0].id


def test_tiny_qwen_vl_judge_is_batch_invariant_looks_at_the_image_and_reports_bad_samples():
    import torch

    from zoo.bench.judges import QwenVLJudge, judge_all

    torch.manual_seed(0)
    judge = QwenVLJudge(batch_size=4)
    pairs = [make_pair(PairSpec(size=64), 0, "val", i) for i in range(4)]
    from PIL import Image

    images = [Image.fromarray(p["chosen"]) for p in pairs]
    questions = [p["json"]["prompt"] for p in pairs]
    batched = judge.p_yes(images, questions)
    judge.batch_size = 1
    single = judge.p_yes(images, questions)
    assert all(0.0 < p < 1.0 for p in batched)
    assert np.allclose(batched, single, atol=1e-4)
    swapped = judge.p_yes([Image.fromarray(pairs[0]["rejected"])], questions[:1])
    assert swapped[0] != pytest.approx(single[0], abs=1e-7)  # the image reaches the answer
    results = judge_all(judge, images, questions[:2] + [""] + questions[3:], batch_size=4)
    assert [r.error is None for r in results] == [True, True, False, True]
    assert "empty" in results[2].error and results[2].yes is None
    assert [r.p_yes for i, r in enumerate(results) if i != 2] == pytest.approx([single[i] for i in (0, 1, 3)], abs=1e-4)


TINY_SFT = ("model:\n  class_path: modules.FlowMatchingModule\n  init_args:\n    policy:\n"
            "      class_path: zoo.policy.flux.FluxPolicy\n      init_args:\n"
            "        tiny: {image_size: 32, pixel_factor: 2}\n        guidance: 1.0\n")


def test_zoo_bench_generates_scores_resumes_and_reads_image_folders(spatial_set, tmp_path):
    import json

    from zoo.bench.run import side_by_side
    from zoo.cli import main

    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    prompts = str(spatial_set / "prompts" / "test-*.tar")
    run = tmp_path / "policy_run"
    args = ["bench", prompts, "--out", str(run), "--experiment", str(config), "--images_per_prompt", "2",
            "--steps", "2", "--batch_size", "3"]
    main(args + ["--count", "3"])
    first = (run / "samples.jsonl").read_text().splitlines()
    assert len(first) == 6 and len(list((run / "images").rglob("*.png"))) == 6
    stamps = {p: p.stat().st_mtime_ns for p in (run / "images").rglob("*.png")}
    main(args + ["--count", "5"])  # resumes: the first 6 images are neither regenerated nor rescored
    lines = (run / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 10 and lines[:6] == first
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    again = tmp_path / "again"  # deterministic for a fixed seed, whatever the batch size
    main(["bench", prompts, "--out", str(again), "--experiment", str(config), "--images_per_prompt", "2",
          "--steps", "2", "--batch_size", "4", "--count", "3"])
    assert [json.loads(x)["score"] for x in (again / "samples.jsonl").read_text().splitlines()] == \
        [json.loads(x)["score"] for x in first]
    # a folder of images: one missing image is reported, the rest is judged
    (run / "images" / json.loads(first[0])["item"] / "0.png").unlink()
    folder = tmp_path / "folder_run"
    main(["bench", prompts, "--out", str(folder), "--images", str(run / "images"), "--images_per_prompt", "2",
          "--count", "5"])
    rows = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and sum("error" in r for r in rows) == 1 and "missing image" in rows[0]["error"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["errors"] == 1 and summary["images"] == 10 and 0.0 <= summary["table"]["Overall"] <= 1.0
    table = side_by_side({"a": summary, "b": json.loads((run / "summary.json").read_text())})
    assert table.splitlines()[0].startswith("| run |") and len(table.splitlines()) == 4


def test_zoo_bench_judged_suites_run_a_vlm_judge_and_tabulate_their_columns(tmp_path):
    import json

    from zoo.cli import main

    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    _write_dpg(tmp_path / "dpg_bench.csv")
    run = tmp_path / "dpg_run"
    main(["bench", str(tmp_path / "dpg_bench.csv"), "--out", str(run), "--suite", "dpg", "--experiment", str(config),
          "--judge_model", "tiny", "--steps", "2"])
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    assert [len(r["p_yes"]) for r in rows] == [3, 2] and all(len(r["scores"]) == len(r["p_yes"]) for r in rows)
    for r in rows:  # the dependency rule holds in what was written
        if r["item"] == "p1" and r["scores"][2] == 1.0:
            assert r["scores"][0] == r["scores"][1] == 1.0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["suite"] == "dpg" and 0.0 <= summary["table"]["Relation / Spatial"] <= 1.0
    with pytest.raises(ValueError, match="judged by a model"):
        from zoo.bench.run import bench

        bench(str(tmp_path / "dpg_bench.csv"), out=str(tmp_path / "x"), experiment=str(config), suite="dpg")


@needs_shared
def test_zoo_bench_tiif_reads_the_real_files_and_reports_the_groups(tmp_path):
    import json

    from zoo.cli import main

    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    main(["bench", str(SHARED / "tiif"), "--out", str(tmp_path / "tiif"), "--suite", "tiif", "--experiment",
          str(config), "--judge_model", "tiny", "--steps", "2", "--count", "3"])
    summary = json.loads((tmp_path / "tiif" / "summary.json").read_text())
    assert summary["images"] == 3 and summary["errors"] == 0 and set(summary["table"]) == {"BR", "AR", "RR"}


def test_geneval_rule_counts_classes_and_uses_the_worlds_position_rule():
    from zoo.bench.geneval import Detection, geneval_table, geneval_verdict
    item = BenchItem("0", "a photo of a dog right of a teddy bear", "position",
                     {"include": [{"class": "teddy bear", "count": 1},
                                  {"class": "dog", "count": 1, "position": ["right of", 0]}]})
    bear, dog_right, dog_left = (10, 40, 30, 60), (60, 40, 80, 60), (0, 40, 12, 60)
    right = geneval_verdict(item, [Detection("teddy bear", 0.9, bear), Detection("dog", 0.8, dog_right)])
    wrong = geneval_verdict(item, [Detection("teddy bear", 0.9, bear), Detection("dog", 0.8, dog_left)])
    missing = geneval_verdict(item, [Detection("dog", 0.8, dog_right)])
    assert right["correct"] and not wrong["correct"] and "not right of" in wrong["reasons"][0]
    assert not missing["correct"] and "teddy bear: 0 found" in missing["reasons"][0]
    counting = BenchItem("1", "a photo of two cats", "counting", {"include": [{"class": "cat", "count": 2}]})
    three = [Detection("cat", 0.9, (0, 0, 5, 5))] * 3
    assert not geneval_verdict(counting, three)["correct"] and geneval_verdict(counting, three[:2])["correct"]
    table = geneval_table([item, item, counting], [right, wrong, {"correct": True}])
    assert table["position"] == 0.5 and table["counting"] == 1.0 and table["overall"] == 0.75


def test_geneval_position_agrees_with_the_world_verifier_on_rendered_boxes():
    from zoo.bench.geneval import Detection, geneval_verdict
    phrase_of = {"to the left of": "left of", "to the right of": "right of", "above": "above", "below": "below"}
    checked = 0
    for i in range(40):
        p = make_pair(PairSpec(size=64), 0, "test", i)
        meta = p["json"]
        a, phrase, b = meta["relations"][0]
        if phrase not in phrase_of or meta["perturbed_relations"][0] == meta["relations"][0]:
            continue
        names = [f"{o['colour']} {o['shape']}" for o in meta["objects"]]
        item = BenchItem(str(i), meta["prompt"], "position",
                         {"include": [{"class": names[b], "count": 1},
                                      {"class": names[a], "count": 1, "position": [phrase_of[phrase], 0]}]})
        for side, expected in (("chosen_boxes", True), ("rejected_boxes", False)):
            boxes = meta[side]
            dets = [Detection(names[k], 1.0, tuple(boxes[k])) for k in range(len(names))]
            assert geneval_verdict(item, dets)["correct"] is expected
        checked += 1
    assert checked >= 5


def test_tiny_owlvit_detector_returns_named_boxes_inside_the_image():
    import torch
    from PIL import Image

    from zoo.bench.geneval import OwlViTDetector

    torch.manual_seed(0)
    detector = OwlViTDetector(threshold=0.0)
    image = Image.fromarray(make_pair(PairSpec(size=64), 0, "test", 0)["chosen"])
    found = detector.detect([image, image], [["red circle", "blue square"], ["cat"]])
    assert len(found) == 2 and found[0] and found[1]
    assert {d.label for d in found[0]} <= {"red circle", "blue square"} and {d.label for d in found[1]} == {"cat"}
    assert all(-64 <= v <= 128 for d in found[0] for v in d.box) and all(0 <= d.score <= 1 for d in found[0])
    assert not OwlViTDetector(threshold=1.01).detect([image], [["cat"]])[0]


@needs_shared
def test_zoo_bench_geneval_runs_a_detector_on_the_real_prompts(tmp_path):
    import json

    from zoo.cli import main

    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    main(["bench", str(SHARED / "geneval" / "evaluation_metadata.jsonl"), "--out", str(tmp_path / "geneval"), "--suite",
          "geneval", "--experiment", str(config), "--judge_model", "tiny", "--steps", "2", "--count", "4"])
    rows = [json.loads(x) for x in (tmp_path / "geneval" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all("correct" in r for r in rows)
    summary = json.loads((tmp_path / "geneval" / "summary.json").read_text())
    assert summary["table"]["single_object"] == np.mean([r["correct"] for r in rows])


def test_unreadable_prompt_lines_are_reported_and_the_run_completes(tmp_path):
    import json

    from zoo.cli import main

    lines = ['{"tag": "single_object", "include": [{"class": "cat", "count": 1}], "prompt": "a photo of a cat"}',
             '{"tag": "single_object", "include": [{"class": "dog"',  # cut off
             '{"tag": "colors", "prompt": "a photo of a red cup"}',  # no include
             '{"tag": "single_object", "include": [{"class": "cup", "count": 1}], "prompt": "a photo of a cup"}']
    (tmp_path / "meta.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchFormatError, match="meta.jsonl:2: not JSON"):
        load_geneval(tmp_path / "meta.jsonl")
    errors: list[str] = []
    items = load_geneval(tmp_path / "meta.jsonl", errors)
    assert [i.id for i in items] == ["00000", "00003"] and len(errors) == 2 and "meta.jsonl:3: missing" in errors[1]
    (tmp_path / "p").mkdir()
    (tmp_path / "e").mkdir()
    (tmp_path / "p" / "2d_spatial_relation_prompts.jsonl").write_text(
        '{"type": "2d_spatial_relation", "short_description": "a cat left of a dog"}\nnot json\n')
    (tmp_path / "e" / "2d_spatial_relation_eval_prompts.jsonl").write_text(
        '{"type": "2d", "yn_question_list": ["Is there a cat?"], "yn_answer_list": ["yes"]}\n'
        '{"type": "2d", "yn_question_list": ["Is there a dog?"], "yn_answer_list": ["yes"]}\n')
    tiif_errors: list[str] = []
    assert len(load_tiif(tmp_path / "p", tmp_path / "e", errors=tiif_errors)) == 1 and len(tiif_errors) == 1
    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    main(["bench", str(tmp_path / "meta.jsonl"), "--out", str(tmp_path / "run"), "--suite", "geneval", "--experiment",
          str(config), "--judge_model", "tiny", "--steps", "2"])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["images"] == 2 and len(summary["prompts_left_out"]) == 2


def test_zoo_bench_adds_the_spatialscore_column_and_survives_a_cut_off_last_line(spatial_set, tmp_path):
    import json

    import torch
    from PIL import Image

    from zoo.cli import main
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer, load

    torch.manual_seed(0)
    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    export_scorer(RewardModel(QwenVLBackbone(tiny=tiny)), tmp_path / "scorer")
    config = tmp_path / "sft.yaml"
    config.write_text(TINY_SFT)
    run = tmp_path / "run"
    args = ["bench", str(spatial_set / "prompts" / "test-*.tar"), "--out", str(run), "--experiment", str(config),
            "--steps", "2", "--count", "3", "--scorer", str(tmp_path / "scorer")]
    main(args)
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    expected = load(tmp_path / "scorer").score(
        [r["prompt"] for r in rows], [Image.open(run / "images" / r["item"] / "0.png") for r in rows])
    assert [r["reward"] for r in rows] == pytest.approx(expected, abs=1e-5)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["table"]["SpatialScore"] == pytest.approx(float(np.mean(expected)))
    text = (run / "samples.jsonl").read_text()
    (run / "samples.jsonl").write_text(text[: len(text) - 25])  # killed while writing the last line
    main(args)
    again = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    assert len(again) == 3 and again[:2] == rows[:2] and again[2]["item"] == rows[2]["item"]
