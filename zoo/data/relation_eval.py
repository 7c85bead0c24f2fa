"""Relations found in prompts, scored against a gold file: precision, recall, strict-entity accuracy, broken perturbations.

A gold file (`tests/data/relations_gold.jsonl`, schema in `tests/data/README.md`) holds one prompt per line with
its `kind` and its spatial relations as character spans. A found relation *matches* a gold one when their phrase
spans overlap and both entities are the same spans of the prompt (strict: determiner, modifiers and head noun,
exactly); it matches *by head* when the entities' last words are the same words of the prompt. Per kind:

Kinds `templated`, `photo_of`, `compound` and `3d` are also scored together as `short`.

- `precision`, `recall`: strict matches over found relations and over gold relations;
- `strict_prompt_accuracy`: prompts whose found relations are exactly the gold ones (none missing, none extra);
- `head_precision`, `head_recall`: the same by head;
- `broken_rate`: of the prompts `perturb_prompt` changed in one relation, the share whose change is not a clean
  edit of a gold relation (the changed relation is no strict gold match: non-spatial, or an entity cut or too
  long), or whose text fails the structural check (`zoo.data.sentence_check`); `perturbed_rate`: prompts changed.

The perturbations of one run share one generator (`seed`), so a prompt's draws shift every later prompt's and a
single-seed broken rate moves by a prompt or so from seed to seed. `evaluate_seeds` runs seeds seed..seed+N-1 (the
finder once per prompt) and reports per kind the mean of the seeds' `broken_rate` and `perturbed_rate`, with
`broken_rate_sd` (sample standard deviation), `broken_rate_min` and `broken_rate_max`; the other figures do not
depend on the seed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.perturb_text import perturb_prompt
from zoo.data.relations import Span, TextRelation, find_relations

Finder = Callable[[str], list[TextRelation]]
SPAN_KEYS = ("subject", "phrase", "object", "object2")
SHORT_KINDS = ("templated", "photo_of", "compound", "3d")  # also scored together as `short`


class GoldError(ValueError):
    """A gold file that does not follow the schema (the message names the file, line and key)."""


def _span(value: Any, text: str, where: str, key: str) -> Span | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not {"text", "start", "end"} <= set(value):
        raise GoldError(f"{where}: {key!r} must be {{text, start, end}} or null")
    start, end = value["start"], value["end"]
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise GoldError(f"{where}: {key!r} has a bad span [{start!r}, {end!r})")
    if text[start:end] != value["text"]:
        raise GoldError(f"{where}: {key!r} text {value['text']!r} is not the prompt's {text[start:end]!r}")
    return Span(start, end, value["text"])


def read_gold(path: str | Path) -> list[dict[str, Any]]:
    """The gold rows, each with `relations` as lists of `Span` dicts (subject, phrase, object, object2)."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldError(f"{where}: not JSON ({err.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str) or not isinstance(
                row.get("relations"), list):
            raise GoldError(f"{where}: a gold row needs 'prompt' (text) and 'relations' (a list)")
        relations = []
        for k, rel in enumerate(row["relations"]):
            if not isinstance(rel, dict) or rel.get("subject") is None or rel.get("phrase") is None:
                raise GoldError(f"{where}: relation {k} needs 'subject' and 'phrase' spans")
            relations.append({key: _span(rel.get(key), row["prompt"], f"{where} relation {k}", key)
                              for key in SPAN_KEYS})
        rows.append({**row, "kind": str(row.get("kind", "all")), "relations": relations})
    return rows


def _last_word(span: Span | None) -> tuple[int, int] | None:
    if span is None:
        return None
    words = span.text.rstrip(" ,.;:'\"").split()
    end = span.start + len(span.text.rstrip(" ,.;:'\""))
    return (end - len(words[-1]), end) if words else None


def _same(found: Span | None, gold: Span | None, by_head: bool) -> bool:
    if found is None or gold is None:
        return found is None and gold is None
    if by_head:
        return _last_word(found) == _last_word(gold)
    return (found.start, found.end) == (gold.start, gold.end)


def relation_matches(found: TextRelation, gold: dict[str, Span | None], by_head: bool = False) -> bool:
    """Phrase spans overlap and every entity is the same span (or, by_head, ends in the same word)."""
    phrase = gold["phrase"]
    if not (found.phrase.start < phrase.end and phrase.start < found.phrase.end):
        return False
    return all(_same(getattr(found, key), gold[key], by_head) for key in ("subject", "object", "object2"))


def match_count(found: list[TextRelation], gold: list[dict], by_head: bool = False) -> tuple[int, list[int]]:
    """Greedy one-to-one matching: the number of matches and, per found relation, its gold index (or -1)."""
    used: set[int] = set()
    index = []
    for relation in found:
        hit = next((g for g, rel in enumerate(gold) if g not in used and relation_matches(relation, rel, by_head)), -1)
        if hit >= 0:
            used.add(hit)
        index.append(hit)
    return len(used), index


def _perturbation_verdict(prompt: str, found: list[TextRelation], gold: list[dict], rng: np.random.Generator,
                          prefer: str = "sure") -> str:
    """'none' (no perturbation), 'ok', 'broken' (entity or structure) or 'non_spatial' (no gold relation changed)."""
    result = perturb_prompt(prompt, 1, rng, relations=found, prefer=prefer)
    if result is None:
        return "none"
    relation = found[result.changes[0]["index"]]
    if not any(relation_matches(relation, g) for g in gold):
        return "broken" if any(relation_matches(relation, g, by_head=True) for g in gold) else "non_spatial"
    return "ok" if not result.problems else "broken"


def evaluate(rows: list[dict], finder: Finder = find_relations, perturb: bool = True, seed: int = 0,
             prefer: str = "sure") -> dict:
    """Scores by kind and over all rows (see the module docstring), plus per-prompt details; `prefer` is
    `perturb_prompt`'s choice of the relation to change."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    details = []
    rng = np.random.default_rng(seed)
    for row in rows:
        found = finder(row["prompt"])
        gold = row["relations"]
        strict, index = match_count(found, gold)
        head, _ = match_count(found, gold, by_head=True)
        verdict = _perturbation_verdict(row["prompt"], found, gold, rng, prefer) if perturb else "none"
        for kind in (row["kind"], "all") + (("short",) if row["kind"] in SHORT_KINDS else ()):
            c = counts[kind]
            c["prompts"] += 1
            c["found"] += len(found)
            c["gold"] += len(gold)
            c["strict"] += strict
            c["head"] += head
            c["exact_prompts"] += int(strict == len(found) == len(gold))
            c["any_found"] += int(bool(found))
            c[f"perturbation_{verdict}"] += 1
        details.append({"id": row.get("id"), "kind": row["kind"], "prompt": row["prompt"],
                        "found": [r.to_json() for r in found], "matched": index, "gold": len(gold),
                        "perturbation": verdict})
    return {"by_kind": {kind: _rates(c) for kind, c in counts.items()}, "details": details}


def evaluate_seeds(rows: list[dict], finder: Finder = find_relations, seeds: int = 1, seed: int = 0,
                   prefer: str = "sure") -> dict:
    """`evaluate` over seeds seed..seed+seeds-1: per kind, the seed-independent figures, the mean `perturbed_rate`
    and `broken_rate`, and the broken rate's spread (`broken_rate_sd`, `_min`, `_max`; `broken_rates` per seed);
    details are the first seed's. One seed gives exactly `evaluate`'s result."""
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    found = {row["prompt"]: finder(row["prompt"]) for row in rows}
    runs = [evaluate(rows, finder=found.__getitem__, seed=seed + k, prefer=prefer) for k in range(seeds)]
    if seeds == 1:
        return runs[0]
    by_kind = {}
    for kind, first in runs[0]["by_kind"].items():
        broken = [run["by_kind"][kind]["broken_rate"] for run in runs]
        values = [b for b in broken if b == b]  # a seed that perturbed nothing of this kind has no rate (nan)
        perturbed = float(np.mean([run["by_kind"][kind]["perturbed_rate"] for run in runs]))
        nan = float("nan")
        by_kind[kind] = {**first, "perturbed_rate": round(perturbed, 4),
                         "broken_rate": round(float(np.mean(values)), 4) if values else nan,
                         "broken_rate_sd": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else nan,
                         "broken_rate_min": min(values, default=nan), "broken_rate_max": max(values, default=nan),
                         "broken_rates": broken, "seeds": seeds,
                         "broken": round(float(np.mean([run["by_kind"][kind]["broken"] for run in runs])), 2),
                         "non_spatial": round(float(np.mean([run["by_kind"][kind]["non_spatial"] for run in runs])), 2)}
    return {"by_kind": by_kind, "details": runs[0]["details"], "seeds": list(range(seed, seed + seeds))}


def _rates(c: dict[str, int]) -> dict[str, float | int]:
    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else float("nan")

    perturbed = c["perturbation_ok"] + c["perturbation_broken"] + c["perturbation_non_spatial"]
    return {"prompts": c["prompts"], "gold_relations": c["gold"], "found_relations": c["found"],
            "any_found": ratio(c["any_found"], c["prompts"]),
            "precision": ratio(c["strict"], c["found"]), "recall": ratio(c["strict"], c["gold"]),
            "strict_prompt_accuracy": ratio(c["exact_prompts"], c["prompts"]),
            "head_precision": ratio(c["head"], c["found"]), "head_recall": ratio(c["head"], c["gold"]),
            "perturbed_rate": ratio(perturbed, c["prompts"]),
            "broken_rate": ratio(c["perturbation_broken"] + c["perturbation_non_spatial"], perturbed),
            "broken": c["perturbation_broken"], "non_spatial": c["perturbation_non_spatial"]}


def format_scores(by_kind: dict[str, dict]) -> str:
    """A markdown table, one row per kind; scores of several seeds (`evaluate_seeds`) give the mean perturbed and
    broken rates and a column with the broken rate's spread."""
    seeds = max((r.get("seeds", 1) for r in by_kind.values()), default=1)
    spread = f" broken sd, min-max ({seeds} seeds) |" if seeds > 1 else ""
    mean = " (mean)" if seeds > 1 else ""
    head = ("| kind | prompts | relations | found in | precision | recall | strict prompts | head P | head R | "
            f"perturbed{mean} | broken or non-spatial{mean} |{spread}\n|---|---|---|---|---|---|---|---|---|---|---|"
            + ("---|" if spread else ""))
    lines = [head]
    for kind, r in sorted(by_kind.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        lines.append(f"| {kind} | {r['prompts']} | {r['gold_relations']} | {r['any_found']:.3f} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['strict_prompt_accuracy']:.3f} | {r['head_precision']:.3f} | "
                     f"{r['head_recall']:.3f} | {r['perturbed_rate']:.3f} | {r['broken_rate']:.3f} |"
                     + (f" {r['broken_rate_sd']:.3f}, {r['broken_rate_min']:.3f}-{r['broken_rate_max']:.3f} |"
                        if spread else ""))
    return "\n".join(lines)
