"""Which relation a one-relation perturbation changes: the broken-or-non-spatial rate of `perturb_prompt` with
`prefer="random"` (the old uniform order), `prefer="sure"` with the phrase tier only, and `prefer="sure"` (phrase
tier and entity evidence), each summed over seeds 0..N-1 per gold part (the seed-0 figure is the one of
benchmarks/relations_gold.py; the mean over seeds is less noisy, since one prompt's draws shift every later prompt's).

    python benchmarks/relations_perturb_choice.py --seeds 10 --out benchmarks/results/relations_perturb_choice_seeds.json
Run from a checkout's root with PYTHONPATH=. to measure that checkout (its perturb_text.py must have `prefer`).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zoo.data.relation_eval as relation_eval  # noqa: E402
from zoo.data import perturb_text  # noqa: E402
from zoo.data.relation_eval import read_gold  # noqa: E402
from zoo.data.relations import find_relations  # noqa: E402

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "relations_gold.jsonl"
MODES = ("random", "phrase_only", "sure")


def _forced(perturb, mode: str, /, *args, **kwargs):
    """`perturb_prompt` with this mode's `prefer`, whatever the caller passes (`evaluate` passes its own)."""
    return perturb(*args, **{**kwargs, "prefer": mode})


def rates(rows: list[dict], seeds: int) -> dict:
    """Per mode and kind: bad (broken or non-spatial) and perturbed prompts summed over the seeds, and their ratio."""
    found = {row["prompt"]: find_relations(row["prompt"]) for row in rows}
    perturb, full_tier = perturb_text.perturb_prompt, perturb_text.relation_tier
    out = {}
    try:
        for mode in MODES:
            perturb_text.relation_tier = perturb_text.phrase_tier if mode == "phrase_only" else full_tier
            relation_eval.perturb_prompt = functools.partial(_forced, perturb, "random" if mode == "random" else "sure")
            sums: dict[str, list[int]] = {}
            for seed in range(seeds):
                for kind, c in relation_eval.evaluate(rows, finder=found.__getitem__, seed=seed)["by_kind"].items():
                    s = sums.setdefault(kind, [0, 0])
                    s[0] += c["broken"] + c["non_spatial"]
                    s[1] += round(c["perturbed_rate"] * c["prompts"])
            out[mode] = {k: {"bad": b, "perturbed": p, "rate": round(b / p, 4) if p else None} for k, (b, p) in sums.items()}
    finally:
        perturb_text.relation_tier, relation_eval.perturb_prompt = full_tier, perturb
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--parts", default=None, help="comma-separated gold parts (default: all)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = read_gold(args.gold)
    parts = args.parts.split(",") if args.parts else list(dict.fromkeys(r["split"] for r in rows if r.get("split")))
    result = {"seeds": args.seeds, "parts": {}}
    for part in parts:
        result["parts"][part] = rates([r for r in rows if r.get("split") == part], args.seeds)
        print(part, {m: {k: v["rate"] for k, v in result["parts"][part][m].items() if k in ("dense", "short")}
                     for m in MODES}, flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
