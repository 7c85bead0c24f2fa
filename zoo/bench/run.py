"""`zoo bench`: generate with a policy (or read a folder of images) for a suite's prompts, score, tabulate; resumable.

Layout of an output folder:
    images/<item id>/<k>.png    k-th image of a prompt (k < images_per_prompt), written atomically
    samples.jsonl               one line per image: item, k, prompt, category, verdict or error
    summary.json                the suite's table (+ counts, errors) for this run
    table.md                    the table as Markdown (`side_by_side` puts runs next to each other)
A rerun skips every image already in samples.jsonl.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from zoo.progress import tqdm

from zoo.bench.prompts import BenchItem
from zoo.bench.runner import policy_images
from zoo.bench.suite import Suite, get_suite
from zoo.bench.suites import judge_image, load_suite, suite_counts, suite_table
from zoo.data.images import read_image
from zoo.data.paths import safe_join
from zoo.data.writing import read_jsonl_rows, write_json_atomic
from zoo.errors import UsageError, require_local_folder
from zoo.policy.io import build_policy
from zoo.reward.scorer import load as load_scorer, run_per_item


def _done(samples: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Rows already written; a last line cut off by a killed run is dropped (that image is redone)."""
    return {(row["item"], row["k"]): row for row in read_jsonl_rows(samples, ("item", "k"))}


def _save_png(image: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    Image.fromarray(image).save(tmp, format="PNG")
    os.replace(tmp, path)


def _read_image(folder: Path, item: BenchItem, k: int) -> np.ndarray:
    path = safe_join(folder, item.id, f"{k}.png")
    if not path.is_file():
        raise FileNotFoundError(f"missing image {path}")
    return np.asarray(read_image(path))


def bench(prompts: str, *, out: str, experiment: str | None = None, weights: str | None = None,
          images: str | None = None, suite: str = "spatialbench", count: int | None = None,
          images_per_prompt: int = 1, steps: int = 8, batch_size: int = 32, seed: int = 0, judge: Literal["auto", "verifier", "qwen_vl", "owl_vit"] = "auto",
          judge_model: str | None = None, judge_family: Literal["qwen2_5_vl", "qwen2_vl", "qwen3_vl"] = "qwen2_5_vl",
          variant: Literal["short", "long"] = "short", scorer: str | None = None,
          trust_remote_code: bool = False) -> dict[str, Any]:
    """Evaluate a policy, or a folder of generated images, on a benchmark suite; resumable.

    Args:
        prompts: the suite's prompts: SpatialBench world prompt shards (data/spatialshapes/prompts/test-*.tar), the
            TIIF-Bench folder (with testmini_prompts/ and testmini_eval_prompts/), the UniGenBench CSV, dpg_bench.csv.
        out: the run folder (images/, samples.jsonl, summary.json, table.md).
        experiment: an experiment YAML whose model.init_args.policy generates the images.
        weights: a folder exported by training (transformer/ or lora/) for that policy.
        images: instead of a policy, a folder laid out as images/<item id>/<k>.png.
        suite: "spatialbench" (judged from pixels), "geneval" (a detector), "tiif", "unigenbench" or "dpg" (a VLM).
        count: how many prompts (the first ones); None = all.
        images_per_prompt: images per prompt (seeds differ per image).
        steps: sampling steps.
        batch_size: images per generation batch (and per write of samples.jsonl).
        seed: base seed (image seeds come from it, the item id and k: see image_seed).
        judge: the kind of judge: "auto" (the suite's own), "verifier" (SpatialBench, from pixels), "owl_vit"
            (GenEval's detector) or "qwen_vl" (TIIF-Bench, UniGenBench, DPG-Bench).
        judge_model: the judge's checkpoint (path or hub id) for owl_vit (OWL-ViT/OWLv2) and qwen_vl; "tiny" builds a
            random one (tests).
        judge_family: "qwen2_5_vl", "qwen2_vl" or "qwen3_vl".
        variant: "short" or "long" prompts (TIIF-Bench).
        scorer: a SpatialScore scorer folder: adds each image's reward and the mean "SpatialScore" column.
        trust_remote_code: let transformers run code shipped in the scorer folder; only for folders you trust.
    """
    for key, value in (("images_per_prompt", images_per_prompt), ("steps", steps), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise UsageError(f"{key} must be an integer >= 1, got {value!r}")
    try:
        chosen = get_suite(suite)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if (experiment is None) == (images is None):
        raise UsageError("give either experiment (a policy to generate with) or images (a folder), not both")
    if scorer is not None:
        require_local_folder(scorer, "scorer folder")
    if judge not in ("auto", chosen.judge_kind):
        raise UsageError(f"suite {suite!r} is judged by --judge {chosen.judge_kind}, not {judge}")
    if chosen.judged and judge_model is None:
        raise UsageError(f"suite {suite!r} is judged by a model: give --judge_model (a checkpoint path or hub id)")
    out_dir = Path(out)
    load_errors: list[str] = []
    items = load_suite(chosen, prompts, count, variant, load_errors)
    for error in load_errors:
        print(f"left out: {error}")
    samples = out_dir / "samples.jsonl"
    done = _done(samples)
    todo = [(item, k) for item in items for k in range(images_per_prompt) if (item.id, k) not in done]
    policy = None
    if experiment is not None and todo:
        policy = build_policy(experiment, weights)
    vlm = None
    if chosen.judged and todo:
        vlm = chosen.build_judge(None if judge_model == "tiny" else judge_model, judge_family)
    reward = None
    if scorer is not None and todo:
        reward = load_scorer(Path(scorer), trust_remote_code=trust_remote_code)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(samples, "a") as log, tqdm(total=len(todo), desc=f"{suite} {out_dir.name}", unit="img") as bar:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            rows, arrays = _score_chunk(chosen, chunk, policy, vlm, Path(images) if images else None, out_dir, steps,
                                        seed)
            if reward is not None:
                _add_rewards(reward, chunk, rows, arrays)
            for row in rows:
                log.write(json.dumps(row) + "\n")
                done[(row["item"], row["k"])] = row
            log.flush()
            bar.update(len(chunk))
    return _summarise(chosen, items, images_per_prompt, done, out_dir, load_errors)


def _score_chunk(suite: Suite, chunk, policy, judge, image_dir: Path | None, out_dir: Path, steps: int,
                 seed: int) -> tuple[list[dict], list[np.ndarray | None]]:
    """Verdicts of one batch and its images; an image that cannot be read or judged gets an error row, the rest go
    on."""
    arrays: list[np.ndarray | None] = []
    errors: list[str | None] = []
    if policy is not None:
        arrays = policy_images(policy, chunk, steps, seed, len(chunk))
        for (item, k), array in zip(chunk, arrays):
            _save_png(array, safe_join(out_dir, "images", item.id, f"{k}.png"))
        errors = [None] * len(chunk)
    else:
        for item, k in chunk:
            try:
                arrays.append(_read_image(image_dir, item, k))
                errors.append(None)
            except Exception as err:  # noqa: BLE001 - reported per sample
                arrays.append(None)
                errors.append(f"{type(err).__name__}: {err}")
    rows = []
    for (item, k), array, error in zip(chunk, arrays, errors):
        row = {"item": item.id, "k": k, "prompt": item.prompt, "category": item.category}
        if error is None:
            try:
                row.update(judge_image(suite, item, array, judge))
            except Exception as err:  # noqa: BLE001
                error = f"{type(err).__name__}: {err}"
        if error is not None:
            row["error"] = error
        rows.append(row)
    return rows, arrays


def _add_rewards(reward, chunk, rows: list[dict], arrays: list[np.ndarray | None]) -> None:
    """Each judged image's SpatialScore reward."""
    keep = [i for i, row in enumerate(rows) if "error" not in row]
    results = run_per_item(lambda part: reward.score([chunk[i][0].prompt for i in part],
                                                     [Image.fromarray(arrays[i]) for i in part]), keep)
    for i, value in zip(keep, results):
        if isinstance(value, Exception):
            rows[i]["reward_error"] = f"{type(value).__name__}: {value}"
        else:
            rows[i]["reward"] = float(value)


def _summarise(suite: Suite, items: list[BenchItem], per_prompt: int, done: dict, out_dir: Path,
               load_errors: list[str]) -> dict[str, Any]:
    rows = [done[(item.id, k)] for item in items for k in range(per_prompt) if (item.id, k) in done]
    good = [r for r in rows if "error" not in r]
    by_id = {item.id: item for item in items}
    table = suite_table(suite, [by_id[r["item"]] for r in good], good)
    rewards = [r["reward"] for r in good if "reward" in r]
    if rewards:
        table["SpatialScore"] = float(np.mean(rewards))
    summary = {"suite": suite.name, "images": len(rows), "errors": len(rows) - len(good), "table": table,
               "n": suite_counts(suite, [by_id[r["item"]] for r in good], good), "prompts_left_out": load_errors}
    write_json_atomic(out_dir / "summary.json", summary)
    (out_dir / "table.md").write_text(side_by_side({out_dir.name: summary}) + "\n")
    print(side_by_side({out_dir.name: summary}))
    if summary["errors"]:
        print(f"{summary['errors']} images could not be judged: see 'error' in {out_dir / 'samples.jsonl'}")
    return summary


def side_by_side(runs: dict[str, dict[str, Any]]) -> str:
    """A Markdown table with one row per run and the suite's columns (like the paper's Table 2); a column's number
    of images (`n` in a summary) goes in its header when the runs agree on it, else beside each value."""
    columns = list(dict.fromkeys(c for s in runs.values() for c in s["table"]))
    counts = {c: {s.get("n", {}).get(c) for s in runs.values() if c in s["table"]} for c in columns}
    shared = {c: next(iter(n)) for c, n in counts.items() if len(n) == 1 and None not in n}
    header = [f"{c} (n={shared[c]})" if c in shared else c for c in columns]
    lines = ["| run | " + " | ".join(header) + " |", "|---|" + "---|" * len(columns)]
    for name, summary in runs.items():
        cells = []
        for c in columns:
            value, n = summary["table"].get(c), summary.get("n", {}).get(c)
            cell = "" if value is None else f"{value:.3f}"
            cells.append(cell + (f" (n={n})" if value is not None and n is not None and c not in shared else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
