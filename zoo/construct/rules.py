"""The two pair rules of `zoo data construct`, one chunk of prompts at a time.

- `perturbed_chunk` (the paper's rule): each prompt is perturbed in 1 or 2-3 of its relations; K images of
  the original and K of the perturbed prompt come from the same seeds; image k makes a pair when the original
  image passes every relation of the original prompt and the perturbed one fails at least one.
- `ranked_chunk`: K images of one world prompt; the best and the worst by the verifier's score.
Both return (pairs, stats): pairs as {key, chosen, rejected (uint8 HWC), meta}, stats with the reason of every
prompt that gave no pair.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Callable, Sequence

import numpy as np
import torch

from zoo.bench.prompts import BenchItem
from zoo.bench.spatialbench import verify_images
from zoo.construct.judges import RelationJudge, world_relations
from zoo.data.perturb_text import TextPerturbation, perturb_prompt, rewrite_checked
from zoo.data.relations import find_relations
from zoo.images import to_uint8

Generate = Callable[[list[str], list[int]], torch.Tensor]


def item_rng(seed: int, item_id: str) -> np.random.Generator:
    """A generator that depends only on (seed, item id): the same perturbation on any rank and on resume."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def perturbation_for(item: BenchItem, seed: int, multi_fraction: float, rewriter=None,
                     llm=None, prefer: str = "sure") -> TextPerturbation | str:
    """The item's perturbation (1, or 2-3 relations with probability multi_fraction; which ones: `perturb_prompt`'s
    `prefer`), or the reason there is none.
    With `llm` (`zoo.data.llm_relations.LLMRelations`) the model proposes it first; a proposal the finder does not
    confirm is counted in the model's review and the rule-based perturbation is used."""
    relations = find_relations(item.prompt)
    if not relations:
        return "no_relation"
    rng = item_rng(seed, item.id)
    count = 1
    if len(relations) > 1 and rng.random() < multi_fraction:
        count = int(rng.integers(2, min(3, len(relations)) + 1))
    for n in range(count, 0, -1):  # fewer if that many cannot be changed independently
        result = llm.propose(item.prompt, n, relations) if llm is not None else None
        result = result or perturb_prompt(item.prompt, n, rng, relations=relations, prefer=prefer)
        if result is not None:
            if rewriter is not None:
                rewrite_checked(result, rewriter)
            return result
    return "not_perturbable"


def generate_safely(generate: Generate, texts: list[str], seeds: list[int], per_item: int,
                    failures: list[str], ids: list[str]) -> list[np.ndarray | None]:
    """Images for consecutive groups of `per_item` texts; a failing batch is retried per group, failures noted."""
    try:
        images = to_uint8(generate(texts, seeds))
        return [images[i:i + per_item] for i in range(0, len(texts), per_item)]
    except Exception:  # noqa: BLE001 - retried per prompt below, so one bad prompt costs only itself
        out: list[np.ndarray | None] = []
        for g, start in enumerate(range(0, len(texts), per_item)):
            try:
                out.append(to_uint8(generate(texts[start:start + per_item], seeds[start:start + per_item])))
            except Exception as err:  # noqa: BLE001
                failures.append(f"{ids[g]}: generator: {type(err).__name__}: {err}")
                out.append(None)
        return out


def _judged(judge: RelationJudge, images: np.ndarray, item: BenchItem, relations, failures: list[str]):
    try:
        return judge.judge(list(images), item, relations)
    except Exception as err:  # noqa: BLE001 - this prompt is counted as a judge error, the others go on
        failures.append(f"{item.id}: judge: {type(err).__name__}: {err}")
        return None


def perturbed_chunk(items: Sequence[BenchItem], generate: Generate, judge: RelationJudge, per_prompt: int,
                    seeds: Callable[[int, int], int], first: int, *, seed: int = 0, multi_fraction: float = 0.5,
                    threshold: float = 0.5, pairs_per_prompt: int = 1, rewriter=None,
                    llm=None, prefer: str = "sure") -> tuple[list[dict], dict]:
    """Original-vs-perturbed pairs of a chunk of prompts, and the chunk's counts by reason (and, with `llm`, the
    model's accepted and rejected outputs by stage and reason, the rejected ones listed for review)."""
    seen = len(llm.review.rows) if llm is not None else 0
    before = dict(llm.review.counts) if llm is not None else {}
    reasons: Counter = Counter()
    failures: list[str] = []
    no_relation: list[dict] = []
    plans: list[tuple[BenchItem, TextPerturbation, int]] = []
    for offset, item in enumerate(items):
        plan = perturbation_for(item, seed, multi_fraction, rewriter, llm, prefer)
        if isinstance(plan, str):
            reasons[plan] += 1
            no_relation.append({"id": item.id, "prompt": item.prompt, "reason": plan})
        else:
            plans.append((item, plan, first + offset))
    texts, image_seeds = [], []
    for item, plan, index in plans:
        for text in (item.prompt, plan.text):
            texts += [text] * per_prompt
            image_seeds += [seeds(index, k) for k in range(per_prompt)]  # the same seeds for both sides
    groups = generate_safely(generate, texts, image_seeds, 2 * per_prompt, failures, [p[0].id for p in plans]) \
        if plans else []
    pairs: list[dict] = []
    for (item, plan, index), images in zip(plans, groups):
        if images is None:
            reasons["generator_error"] += 1
            continue
        conf = _judged(judge, images, item, plan.relations, failures)
        if conf is None:
            reasons["judge_error"] += 1
            continue
        kept, reason = _select(item, plan, images, conf, per_prompt, threshold, pairs_per_prompt, judge.name,
                               [seeds(index, k) for k in range(per_prompt)])
        pairs += kept
        reasons[reason] += 1
    stats = {"prompts": len(items), "reasons": dict(reasons), "failures": failures, "no_pair": no_relation,
             "n_perturbations": dict(Counter(str(p.count) for _, p, _ in plans))}
    if llm is not None:
        stats["llm"] = {k: v - before.get(k, 0) for k, v in llm.review.counts.items() if v - before.get(k, 0)}
        stats["llm_review"] = llm.review.rows[seen:][:200]
    return pairs, stats


def _select(item, plan: TextPerturbation, images: np.ndarray, conf: list, per_prompt: int, threshold: float,
            pairs_per_prompt: int, judge_name: str, image_seeds: list[int]) -> tuple[list[dict], str]:
    candidates, complete, originals_ok = [], False, False
    for k in range(per_prompt):
        a, b = conf[k], conf[per_prompt + k]
        if any(c is None for c in a + b):
            continue
        complete = True
        if min(a) >= threshold:
            originals_ok = True
            if min(b) < threshold:
                candidates.append((min(a) - min(b), k))
    if not complete:
        return [], "judge_error"
    if not candidates:
        return [], "perturbed_passed" if originals_ok else "original_failed"
    pairs = []
    for margin, k in sorted(candidates, key=lambda c: (-c[0], c[1]))[:pairs_per_prompt]:
        meta = {"prompt": item.prompt, "perturbed_prompt": plan.text, "n_perturbations": plan.count,
                "perturbations": plan.changes, "text_relations": [r.to_json() for r in plan.relations],
                "perturbed_text_relations": [r.to_json() for r in plan.perturbed_relations],
                "rewritten": plan.rewritten, "seed": image_seeds[k], "image_index": k, "item": item.id,
                "source": "policy, original vs perturbed",
                "judge": {"name": judge_name, "threshold": threshold, "chosen": conf[k],
                          "rejected": conf[per_prompt + k]}}
        scene = item.data.get("scene")
        if scene is not None:
            meta.update({key: scene[key] for key in ("objects", "relations", "world") if key in scene})
            meta["perturbed_relations"] = world_relations(plan.perturbed_relations, scene)
        pairs.append({"key": f"{item.id}-{k}", "chosen": images[k], "rejected": images[per_prompt + k], "meta": meta})
    return pairs, "kept"


def ranked_chunk(items: Sequence[BenchItem], generate: Generate, per_prompt: int, seeds: Callable[[int, int], int],
                 first: int, *, margin: float = 0.25, objects_weight: float = 0.25,
                 clutter_weight: float = 0.0) -> tuple[list[dict], dict]:
    """(best, worst) verifier-judged images of each world prompt whose scores (relations + objects_weight * objects
    found - clutter_weight * clutter) differ by >= margin."""
    missing = [i.id for i in items if "scene" not in i.data]
    if missing:
        raise ValueError(f"prompt {missing[0]} has no SpatialShapes scene: the ranked rule needs the verifier")
    texts = [item.prompt for item in items for _ in range(per_prompt)]
    images = generate(texts, [seeds(first + i // per_prompt, i % per_prompt) for i in range(len(texts))])
    rows = verify_images(images, [item.data["scene"] for item in items for _ in range(per_prompt)])
    arrays = to_uint8(images)
    pairs, reasons = [], Counter()
    for g, item in enumerate(items):
        idx = list(range(g * per_prompt, (g + 1) * per_prompt))
        scores = [rows[i]["score"] + objects_weight * rows[i]["found"] - clutter_weight * rows[i]["clutter"]
                  for i in idx]
        best, worst = idx[int(np.argmax(scores))], idx[int(np.argmin(scores))]
        if max(scores) - min(scores) < margin:
            reasons["flat"] += 1
            continue
        reasons["kept"] += 1
        meta = {**item.data["scene"], "prompt": item.prompt, "n_perturbations": 0, "source": "policy, ranked",
                "chosen_verdict": rows[best], "rejected_verdict": rows[worst], "item": item.id}
        pairs.append({"key": item.id, "chosen": arrays[best], "rejected": arrays[worst], "meta": meta})
    return pairs, {"prompts": len(items), "reasons": dict(reasons), "failures": [], "no_pair": []}
