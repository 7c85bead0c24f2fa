"""How often spatial relations are found and perturbed in real benchmark prompts (TIIF-Bench, UniGenBench).

    python benchmarks/relations_coverage.py --benchmarks ../shared/benchmarks --out relations_coverage.json

Prints a table (prompts, share with a relation found, relations per prompt, and for 1, 2 and 3 announced
perturbations the share of eligible prompts perturbed, each re-parsed and checked to differ in exactly
that many relations) and writes it as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from zoo.bench.prompts import UNIGEN_LAYOUT, load_tiif, load_unigenbench
from zoo.data.perturb_text import perturb_prompt
from zoo.data.relations import canonical, find_relations


def spatial_sets(root: Path) -> dict[str, list[str]]:
    """The 2d/3d prompts of TIIF-Bench testmini (short, long) and UniGenBench's layout prompts (short, long)."""
    sets = {}
    for length in ("short", "long"):
        items = load_tiif(root / "tiif/testmini_prompts", root / "tiif/testmini_eval_prompts", length=length)
        sets[f"TIIF {length}, 2d/3d"] = [i.prompt for i in items if i.category in ("2d", "3d")]
        sets[f"TIIF {length}, any +2d/+3d"] = [i.prompt for i in items if "2d" in i.category or "3d" in i.category]
    for name, file in (("UniGenBench short, layout", "test_prompts_en.csv"),
                       ("UniGenBench long, layout", "test_prompts_en_long.csv")):
        items = load_unigenbench(root / "unigenbench" / file, errors=[])
        sets[name] = [i.prompt for i in items if set(i.data["testpoints"]) & set(UNIGEN_LAYOUT.values())]
    return sets


def measure(prompts: list[str], seed: int = 0) -> dict[str, float]:
    """Coverage and perturbation success (verified by re-parsing) over a prompt list."""
    rng = np.random.default_rng(seed)
    found = [find_relations(p) for p in prompts]
    row = {"prompts": len(prompts), "found": float(np.mean([bool(f) for f in found])),
           "relations_per_prompt": float(np.mean([len(f) for f in found]))}
    for n in (1, 2, 3):
        eligible = [(p, f) for p, f in zip(prompts, found) if len(f) >= n]
        ok = 0
        for prompt, relations in eligible:
            result = perturb_prompt(prompt, n, rng, relations=relations)
            if result is None:
                continue
            after = find_relations(result.text)
            assert len(after) == len(relations)
            assert sum(canonical(a) != canonical(b) for a, b in zip(relations, after)) == n, (prompt, result.text)
            ok += 1
        row[f"perturbed_{n}"] = ok / len(eligible) if eligible else float("nan")
        row[f"eligible_{n}"] = len(eligible)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=Path(__file__).resolve().parents[2] / "shared/benchmarks")
    parser.add_argument("--out", type=Path, default=Path("relations_coverage.json"))
    args = parser.parse_args()
    rows = {name: measure(prompts) for name, prompts in spatial_sets(args.benchmarks).items()}
    print("| set | prompts | found | relations/prompt | perturbed 1 | 2 | 3 |\n|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['prompts']} | {r['found']:.3f} | {r['relations_per_prompt']:.2f} | "
              + " | ".join(f"{r[f'perturbed_{n}']:.3f} ({r[f'eligible_{n}']})" for n in (1, 2, 3)) + " |")
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
