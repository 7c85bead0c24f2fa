"""`zoo data construct`: preference pairs from a policy's own images, judged per relation from their pixels.

The paper's rule (`rule: perturbed`, the default): each prompt is perturbed in 1 or 2-3 spatial relations
(`zoo.data.perturb_text`), the policy draws K images of the original and K of the perturbed prompt with the
same seeds, a judge (the SpatialShapes verifier for world prompts, else a Qwen-VL yes/no judge) checks the
original prompt's relations on each, and image k becomes a pair when the original passes every relation and
the perturbed one fails at least one. `rule: ranked` pairs the best and worst of K images of one world prompt.

Work is split into chunks of prompts; a chunk writes its review images, contact sheet and rows, its counts,
then its pair shard last (atomically), so an interrupted run resumes at the first chunk without a shard and
nothing written is lost. Ranks (RANK / WORLD_SIZE, or the arguments) take every world_size-th chunk.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import torch

from zoo.config_files import resolve_config
from zoo.construct.judges import make_judge
from zoo.construct.prompts import read_prompts
from zoo.construct.review import merge_review, write_review
from zoo.construct.rules import perturbed_chunk, ranked_chunk
from zoo.data.llm_chat import CausalLMChat
from zoo.data.llm_relations import LLMRelations
from zoo.data.paths import safe_join
from zoo.data.perturb_text import PREFER, CausalLMRewriter
from zoo.data.writing import encode_json, encode_png, shard_name, write_json_atomic, write_shard
from zoo.policy.io import build_policy
from zoo.progress import tqdm
from zoo.settings import SettingsError, integer, of_type, read_json, validate


def construct(prompts: str, *, out: Path, experiment: str, weights: str | None = None,
              rule: Literal["perturbed", "ranked"] = "perturbed",
              judge: Literal["auto", "verifier", "qwen_vl"] = "auto", judge_model: str | None = None,
              suite: str | None = None,
              variant: Literal["short", "long"] = "short", spatial_only: bool = False, count: int | None = None,
              images_per_prompt: int = 8, multi_fraction: float = 0.5,
              threshold: float = 0.5, pairs_per_prompt: int = 1, rewriter: str | None = None,
              llm: str | None = None, prefer: Literal["sure", "random"] = "sure", steps: int = 8,
              noise_level: float = 0.0, margin: float = 0.25, objects_weight: float = 0.25,
              clutter_weight: float = 0.0, prompts_per_shard: int = 200, batch_size: int = 64, seed: int = 0,
              split: str = "train",
              rank: int | None = None, world_size: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """Build preference pairs from a policy's own images and write pair shards, review sheets and a summary.

    Args:
        prompts: world prompt shards (e.g. data/spatialshapes/prompts/train-*.tar), a UniGenBench CSV, or a
            JSON-lines / text file (prompt, short_description (TIIF), prompt_en or text per line).
        out: output folder: OUT/{split}-NNNNNN.tar pair shards, OUT/review/ (review.jsonl, sheets/, images/),
            OUT/stats/ (per chunk) and OUT/construct_summary.json.
        experiment: an experiment YAML whose model.init_args.policy is the generator (e.g. configs/sft/tiny_flux.yaml).
        weights: the generator's trained weights (a folder from FlowPolicy.save).
        rule: "perturbed" (original vs perturbed prompt, the paper's rule) or "ranked" (best vs worst, world only).
        judge: "auto" (verifier for world prompts, else qwen_vl), "verifier" or "qwen_vl".
        judge_model: local path or hub id of the Qwen-VL judge (e.g. Qwen/Qwen2.5-VL-7B-Instruct).
        suite: read PROMPTS with a benchmark's loader: geneval (evaluation_metadata.jsonl), tiif (the folder with
            testmini_prompts/ and testmini_eval_prompts/), unigenbench (the CSV) or dpg (dpg_bench.csv).
        variant: TIIF-Bench prompt length, short or long.
        spatial_only: keep only spatial items (TIIF 2d/3d, UniGenBench layout, DPG relation-spatial, GenEval position).
        count: prompts to use (the first ones); None = all.
        images_per_prompt: K images per prompt (per side for the perturbed rule).
        multi_fraction: share of prompts perturbed in 2-3 relations (where they have that many).
        threshold: a relation passes when the judge's confidence is at least this.
        pairs_per_prompt: most pairs kept per prompt (the largest judged margins first).
        rewriter: local path or hub id of a causal LM that rephrases perturbed prompts (kept only if faithful).
        llm: local path or hub id of a causal chat model that extracts each prompt's relations and proposes its
            perturbation (the paper's LLM step); kept only when the rule finder agrees with both, else counted
            (summary "llm"), listed in OUT/review/llm_review.jsonl and replaced by the rule-based perturbation.
        prefer: which relations the rule-based perturbation changes: "sure" (default) the relations the finder is
            surest are spatial first (a direction or region phrase or a spatial-only preposition such as "to the left
            of" or "behind", then "under", "near" and the like, polysemous "on", "at", "over", "by" ... last; random
            within a tier); "random" any relations, in a uniformly random order (the order before this option
            existed). World prompts, whose relations are all of one tier, are perturbed the same either way.
        steps: sampler steps per image.
        noise_level: 0 is the ODE sampler (measured: more kept pairs than SDE 0.7 from the embedded SFT policy),
            > 0 the SDE sampler GRPO rolls out with.
        margin: ranked rule: the least score difference between the best and the worst image of a prompt.
        objects_weight: ranked rule: an image's score is relations + objects_weight * objects found
            - clutter_weight * clutter.
        clutter_weight: ranked rule: see objects_weight (clutter is a fraction of the canvas: an object drawn twice
            on the 32 px policy canvas is 0.0625, so 4 makes it cost as much as a quarter of the relations).
        prompts_per_shard: prompts per chunk (the unit of resuming and of splitting across ranks).
        batch_size: images per generation batch.
        seed: base of the noise seeds (image k of prompt i: seed, i, k) and of the perturbation draws.
        split: shard name prefix.
        rank: this process's index among the processes sharing the chunks (default: RANK, else 0).
        world_size: how many processes share the chunks (default: WORLD_SIZE, else 1).
        device: where the generator and the judge run ("cuda" under torchrun: this process's LOCAL_RANK GPU).
    """
    out, started = Path(out), time.perf_counter()
    rank = int(os.environ.get("RANK", 0)) if rank is None else rank
    world_size = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size
    if device == "cuda" and "LOCAL_RANK" in os.environ:  # torchrun: one GPU per process
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    if rule not in ("perturbed", "ranked"):
        raise ValueError(f"unknown rule {rule!r}: choose perturbed or ranked")
    if prefer not in PREFER:
        raise ValueError(f"unknown prefer {prefer!r}: choose {' or '.join(PREFER)}")
    shard_name(split, 0)  # a split that is not a plain name fails here, before anything is written
    for key, value in (("prompts_per_shard", prompts_per_shard), ("images_per_prompt", images_per_prompt),
                       ("batch_size", batch_size), ("steps", steps), ("pairs_per_prompt", pairs_per_prompt)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
    items, problems = read_prompts(prompts, count, suite, variant, spatial_only)
    chunks = [items[i:i + prompts_per_shard] for i in range(0, len(items), prompts_per_shard)]
    mine = [i for i in range(len(chunks)) if i % world_size == rank]
    todo = [i for i in mine if not _shard_path(out, split, i).exists() or not _stats_path(out, split, i).exists()]
    for problem in problems[:20]:
        print(f"skipped: {problem}")
    if todo:
        policy = build_policy(str(resolve_config(experiment)), weights, device)
        run = _chunk_runner(policy, items, rule=rule, judge=judge, judge_model=judge_model,
                            per_prompt=images_per_prompt, steps=steps, noise_level=noise_level, batch_size=batch_size,
                            seed=seed, multi_fraction=multi_fraction, threshold=threshold,
                            pairs_per_prompt=pairs_per_prompt, rewriter=rewriter, llm=llm, prefer=prefer,
                            margin=margin, objects_weight=objects_weight, clutter_weight=clutter_weight,
                            device=device)
        with tqdm(total=sum(len(chunks[i]) for i in todo), desc=f"construct {out.name}", unit="prompt") as bar:
            for index in todo:
                _one_chunk(out, split, index, chunks[index], index * prompts_per_shard, run)
                bar.update(len(chunks[index]))
    summary = _summary(out, split, len(chunks), items, problems, rule, experiment, weights, images_per_prompt,
                       time.perf_counter() - started, reused=len(mine) - len(todo), prefer=prefer,
                       ranking={"margin": margin, "objects_weight": objects_weight, "clutter_weight": clutter_weight}
                       if rule == "ranked" else None)
    write_json_atomic(safe_join(out, "construct_summary.json"), summary)
    print(json.dumps({k: summary[k] for k in ("prompts", "pairs", "reasons", "shards_done", "shards")}))
    return summary


def _shard_path(out: Path, split: str, index: int) -> Path:
    return safe_join(out, shard_name(split, index))


def _stats_path(out: Path, split: str, index: int) -> Path:
    return safe_join(out, "stats", shard_name(split, index).replace(".tar", ".json"))


STATS = {"prompts": integer(0, 1 << 40), "pairs": integer(0, 1 << 40), "reasons": of_type(dict, "an object"),
         "failures": of_type(list, "a list"), "no_pair": of_type(list, "a list"),
         "n_perturbations": of_type(dict, "an object", required=False),
         "llm": of_type(dict, "an object", required=False), "llm_review": of_type(list, "a list", required=False)}


def read_stats(path: Path) -> dict[str, Any]:
    """A chunk's counts as written by `_one_chunk`, validated (keys, types, ranges) before they are summed."""
    stats = validate(read_json(path), STATS, str(path))
    for key in ("reasons", "n_perturbations", "llm"):
        bad = [k for k, v in stats.get(key, {}).items() if not isinstance(v, int) or isinstance(v, bool) or v < 0]
        if bad:
            raise SettingsError(f"{path}: {key!r} must map names to counts, got {bad[0]!r}: {stats[key][bad[0]]!r}")
    return stats


def _chunk_runner(policy, items, *, rule, judge, judge_model, per_prompt, steps, noise_level, batch_size, seed,
                  multi_fraction, threshold, pairs_per_prompt, rewriter, llm, prefer, margin, objects_weight,
                  clutter_weight, device):
    """A function (chunk, first index) -> (pairs, stats) for the chosen rule."""
    def generate(texts: list[str], seeds: list[int]) -> torch.Tensor:
        with torch.no_grad():
            return policy.generate(texts, seeds, steps=steps, noise_level=noise_level, batch_size=batch_size)[0]

    def seeds(index: int, k: int) -> int:
        return (seed * 1_000_003 + index) * 1009 + k

    if rule == "ranked":
        return lambda chunk, first: ranked_chunk(chunk, generate, per_prompt, seeds, first, margin=margin,
                                                 objects_weight=objects_weight, clutter_weight=clutter_weight)
    relation_judge = make_judge(judge, items, judge_model, device)
    lm = CausalLMRewriter(rewriter) if rewriter else None
    proposer = LLMRelations(CausalLMChat(llm, device=device).chat) if llm else None
    return lambda chunk, first: perturbed_chunk(chunk, generate, relation_judge, per_prompt, seeds, first, seed=seed,
                                                multi_fraction=multi_fraction, threshold=threshold,
                                                pairs_per_prompt=pairs_per_prompt, rewriter=lm, llm=proposer,
                                                prefer=prefer)


def _one_chunk(out: Path, split: str, index: int, chunk: list, first: int, run) -> None:
    """Pairs of one chunk: review files and counts first, the shard (the chunk's completion mark) last."""
    try:
        pairs, stats = run(chunk, first)
    except Exception as err:  # noqa: BLE001 - one failed chunk is reported, the others are still written
        print(f"chunk {index} failed (rerun to retry): {type(err).__name__}: {err}")
        return
    write_review(safe_join(out, "review"), shard_name(split, index).removesuffix(".tar"), pairs)
    if stats.get("llm_review"):
        with safe_join(out, "review", "llm_review.jsonl").open("a", encoding="utf-8") as f:
            f.writelines(json.dumps({"chunk": index, **row}) + "\n" for row in stats["llm_review"])
    write_json_atomic(_stats_path(out, split, index), {**stats, "pairs": len(pairs)})
    write_shard(_shard_path(out, split, index),
                [{"__key__": p["key"], "chosen.png": encode_png(p["chosen"]), "rejected.png": encode_png(p["rejected"]),
                  "json": encode_json(p["meta"])} for p in pairs])


def _summary(out: Path, split: str, n_chunks: int, items: list, problems: list[str], rule: str, experiment: str,
             weights: str | None, per_prompt: int, seconds: float, reused: int, prefer: str = "sure",
             ranking: dict[str, float] | None = None) -> dict[str, Any]:
    """Counts over every finished chunk (of every rank) and the input problems."""
    reasons: Counter = Counter()
    n_pert: Counter = Counter()
    llm: Counter = Counter()
    pairs, done, failures, no_pair = 0, 0, [], []
    for index in range(n_chunks):
        path = _stats_path(out, split, index)
        if path.exists() and _shard_path(out, split, index).exists():
            stats = read_stats(path)
            done, pairs = done + 1, pairs + stats["pairs"]
            reasons.update(stats["reasons"])
            n_pert.update(stats.get("n_perturbations", {}))
            llm.update(stats.get("llm", {}))
            failures += stats["failures"]
            no_pair += stats["no_pair"]
    reviewed = merge_review(out / "review") if (out / "review").is_dir() else 0
    return {"prompts": len(items), "pairs": pairs, "reasons": dict(reasons), "n_perturbations": dict(n_pert),
            **({"llm": dict(llm)} if llm else {}),
            "flat_prompts": reasons.get("flat", 0), "shards": n_chunks, "shards_done": done, "shards_reused": reused,
            "complete": done == n_chunks, "input_problems": problems, "failures": failures[:200],
            "no_pair_prompts": no_pair[:200], "review_rows": reviewed, "rule": rule,
            "prefer": prefer, **({"ranking": ranking} if ranking else {}), "seconds": round(seconds, 1),
            "images_per_prompt": per_prompt,
            "generator": {"experiment": str(experiment), "weights": str(weights)}}
