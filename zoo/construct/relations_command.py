"""`zoo data relations`: the spatial relations found in each prompt of a file, for review, and their scores against a
gold file; optionally the LLM path's agreement with the finder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np

from zoo.construct.prompts import read_prompts
from zoo.data.llm_chat import CausalLMChat
from zoo.data.llm_relations import LLMRelations
from zoo.data.perturb_text import perturb_prompt
from zoo.data.relation_eval import evaluate_seeds, format_scores, read_gold
from zoo.data.relations_nlp import get_finder


def _line(prompt: str, found: list, perturbed: str | None) -> str:
    lines = [f"- {prompt if len(prompt) <= 200 else prompt[:197] + '...'}"]
    lines += [f"    {r.subject.text} | {r.phrase.text} | {r.object.text if r.object else '-'}"
              + (f" and {r.object2.text}" if r.object2 else "") + f"  ({r.predicate})" for r in found]
    if not found:
        lines.append("    (no spatial relation found)")
    if perturbed is not None:
        lines.append(f"    perturbed: {perturbed}")
    return "\n".join(lines)


def _llm_check(prompts: list[str], finder, llm: str, device: str) -> dict[str, Any]:
    path = LLMRelations(CausalLMChat(llm, device=device).chat, finder=finder)
    for prompt in prompts:
        relations = finder(prompt)
        if relations:
            path.propose(prompt, 1, relations)
    return {"counts": dict(path.review.counts), "rejected": path.review.rows[:200]}


def relations(file: str, gold: Path | None = None, finder: Literal["rules", "spacy", "auto"] = "rules",
              spacy_model: str = "en_core_web_sm", llm: str | None = None,
              suite: str | None = None,
              variant: Literal["short", "long"] = "short", spatial_only: bool = False, count: int | None = None,
              show: int = 20, prefer: Literal["sure", "random"] = "sure",
              seed: int = 0, seeds: int = 1, device: str = "cpu", out: Path | None = None) -> dict[str, Any]:
    """Print the spatial relations found in each prompt of FILE (subject | phrase | object, and a one-relation
    perturbation) for review; with --gold, score them: precision, recall, strict prompts (found relations exactly the
    gold ones, both entities whole) and broken perturbations, by kind of prompt.

    Args:
        file: prompts: a JSON-lines / text file (prompt, short_description, prompt_en or text per line), a
            UniGenBench CSV, a benchmark folder with --suite, or a gold file.
        gold: a gold file of relations (schema in tests/data/README.md); its prompts that are in FILE are scored.
        finder: "rules" (default, no dependency), "spacy" (spaCy's tags; needs `pip install 'zoo[nlp]'` and a
            model) or "auto" (spaCy when a model loads, else rules; the choice is printed).
        spacy_model: spaCy pipeline name or folder.
        llm: local path or hub id of a causal chat model: its relations and one-relation perturbation of each
            prompt are checked against the finder, and the accepted and rejected counts are printed.
        suite: read FILE with a benchmark's loader (geneval, tiif, unigenbench or dpg), as `zoo data construct` does.
        variant: TIIF-Bench prompt length, "short" or "long".
        spatial_only: keep only the spatial items of a benchmark.
        count: prompts to read (the first ones); None = all.
        show: prompts printed (the scores cover all).
        prefer: which relation a perturbation changes: "sure" (default) the relations the finder is surest are
            spatial first (a direction or region phrase or a spatial-only preposition such as "to the left of" or
            "behind", then "under", "near" and the like, polysemous "on", "at", "over", "by" ... last; random within
            a tier); "random" any relation, in a uniformly random order (the order before this option existed).
        seed: seed of the perturbation draws.
        seeds: with --gold, score the perturbations with seeds SEED..SEED+SEEDS-1 and report the mean perturbed and
            broken-or-non-spatial rates and the broken rate's spread (sample sd, min-max): one seed's rate moves by a
            prompt or so, since the prompts share one generator. 1 (default) is the single-seed figure of
            benchmarks/results/; each seed costs one more perturbation pass. Precision and recall do not depend on it.
        device: where the LLM runs.
        out: also write everything (relations per prompt, scores, LLM counts) as JSON to this file.
    """
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    find, used = get_finder(finder, spacy_model)
    items, problems = read_prompts(file, count, suite, variant, spatial_only)
    rng = np.random.default_rng(seed)
    rows = []
    for item in items:
        found = find(item.prompt)
        result = perturb_prompt(item.prompt, 1, rng, relations=found, prefer=prefer) if found else None
        rows.append({"id": item.id, "prompt": item.prompt, "relations": [r.to_json() for r in found],
                     "perturbed": result.text if result else None})
    print(f"finder: {used}; {len(items)} prompts, {sum(bool(r['relations']) for r in rows)} with a relation, "
          f"{sum(len(r['relations']) for r in rows)} relations")
    for problem in problems[:10]:
        print(f"skipped: {problem}")
    for row in rows[:show]:
        print(_line(row["prompt"], find(row["prompt"]), row["perturbed"]))
    found_all: dict[str, Any] = {"finder": used, "prompts": rows, "predicates": dict(Counter(
        r["predicate"] for row in rows for r in row["relations"]))}
    if gold is not None:
        wanted = {item.prompt for item in items}
        scored = [row for row in read_gold(gold) if row["prompt"] in wanted]
        if not scored:
            raise SystemExit(f"relations: no prompt of {gold} is in {file}")
        result = evaluate_seeds(scored, finder=find, seeds=seeds, seed=seed, prefer=prefer)
        over = f", perturbations over seeds {seed}-{seed + seeds - 1}" if seeds > 1 else ""
        print(f"\nscores against {gold} ({len(scored)} prompts{over})\n" + format_scores(result["by_kind"]))
        found_all["scores"], found_all["gold_details"] = result["by_kind"], result["details"]
        found_all["perturbation_seeds"] = list(range(seed, seed + seeds))
    if llm is not None:
        found_all["llm"] = _llm_check([item.prompt for item in items], find, llm, device)
        print(f"\nLLM path ({llm}): " + json.dumps(found_all["llm"]["counts"]))
    if out is not None:
        Path(out).write_text(json.dumps(found_all, indent=1) + "\n", encoding="utf-8")
    return found_all
