"""The seeded draw of a blind gold part: benchmark prompts with a spatial phrase that no earlier part holds.

    python benchmarks/relations_gold_draw.py --seed 17004 --short 44 --dense 44 > /tmp/heldout4_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout5 --seed 17005 --short 7 --dense 44 > /tmp/heldout5_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout6 --seed 17006 --short 0 --dense 45 > /tmp/heldout6_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout7 --seed 17007 --short 0 --dense 45 > /tmp/heldout7_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout8 --seed 17008 --short 0 --dense 45 > /tmp/heldout8_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout9 --seed 17009 --short 0 --dense 45 > /tmp/heldout9_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout10 --seed 17010 --short 0 --dense 36 \
        --dense_pools dense_tiif,dense_unigen_long > /tmp/heldout10_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout11 --seed 17011 --short 0 --dense 36 \
        --dense_pools dense_tiif,dense_unigen_long > /tmp/heldout11_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout12 --seed 17012 --short 0 --dense 36 \
        --dense_pools dense_tiif,dense_unigen_long > /tmp/heldout12_draw.jsonl
    python benchmarks/relations_gold_draw.py --part heldout13 --seed 17013 --short 0 --dense 36 \
        --dense_pools dense_tiif,dense_unigen_long > /tmp/heldout13_draw.jsonl

Rule (heldout4): from the public prompt files in ../shared/benchmarks, keep the prompts that contain a spatial phrase
(`SPATIAL`, whole words, case-insensitive) and are not already in the gold file under a part drawn or labelled
before it (`PARTS` order; compared by prompt text, so the draw gives the same prompts after its part and later parts
are added). heldout5 is drawn by the same rule with seed 17005; after heldout4 only 7 prompts of the short pool were
left (the earlier parts hold the other 262), so heldout5 takes all 7 of them and 44 dense prompts; heldout6 (seed
17006), heldout7 (seed 17007), heldout8 (seed 17008) and heldout9 (seed 17009) take dense prompts only (`--short 0`),
15 from each dense source. heldout10 (seed 17010) takes 36 dense prompts from the two long sources only
(`--dense_pools dense_tiif,dense_unigen_long`, 18 each): after heldout9 the UniGenBench short pool had 13 prompts
left, and the long descriptions are the dense prompts users bring; heldout11 (seed 17011), heldout12 (seed
17012) and heldout13 (seed 17013) likewise. Pools, each sorted by source before the draw:
short = the TIIF testmini `short_description`s and the GenEval prompts; dense = the TIIF testmini `long_description`s,
and the UniGenBench prompts (short and long file) whose test points name an entity layout ("Entity Layout - ...").
TIIF's `real_world_prompts.jsonl` is left out of both: its short and long descriptions are the same text, instructions
of up to 2,500 characters (notebook pages, posters), neither a short prompt nor a described scene.
`random.Random(seed)` draws `--short` prompts from the short pool, then `--dense` from the dense pool, split evenly
over its sources (`--dense_pools`, by default all three: TIIF long, UniGenBench long, UniGenBench short). The draw
looks only at the prompt texts, never at what the relation finder makes of them. Writes one JSON object a line:
prompt, source, pool.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "data" / "relations_gold.jsonl"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
LEFT_OUT = ("real_world_prompts.jsonl",)
PARTS = ("dev", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8",
         "heldout9", "heldout10", "heldout11", "heldout12", "heldout13")
DENSE_POOLS = ("dense_tiif", "dense_unigen_long", "dense_unigen_short")
SPATIAL = re.compile(
    r"\b(left|right|above|below|beneath|under|underneath|behind|in front of|next to|beside|besides|near|on|upon|"
    r"onto|atop|on top of|top|bottom|between|across|around|over|inside|within|outside|along|alongside|"
    r"surrounded by|opposite|foreground|background|middle|center|centre|distance|corner|close to)\b", re.IGNORECASE)


def _tiif(root: Path, field: str) -> list[tuple[str, str]]:
    """(prompt, source) of one field of every TIIF testmini prompt file."""
    out = []
    for path in sorted((root / "tiif" / "testmini_prompts").glob("*.jsonl")):
        if path.name in LEFT_OUT:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            if isinstance(row.get(field), str):
                out.append((row[field], f"tiif/testmini_prompts/{path.name}:{n}#{field}"))
    return out


def _geneval(root: Path) -> list[tuple[str, str]]:
    """(prompt, source) of the GenEval metadata file."""
    path = root / "geneval" / "evaluation_metadata.jsonl"
    return [(json.loads(line)["prompt"], f"geneval/evaluation_metadata.jsonl:{n}#prompt")
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]


def _unigenbench_layout(root: Path, name: str) -> list[tuple[str, str]]:
    """(prompt, source) of the UniGenBench prompts whose test points name an entity layout."""
    out = []
    with open(root / "unigenbench" / name, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if "Entity Layout" in row["sub_dims_en"]:
                out.append((row["prompt_en"], f"unigenbench/{name}#index={row['index']}#prompt_en"))
    return out


def pools(root: Path, gold: Path, part: str) -> dict[str, list[tuple[str, str]]]:
    """The candidate prompts by pool, without those the gold file holds in a part before `part` and without repeats."""
    earlier = set(PARTS[:PARTS.index(part)])
    taken = {row["prompt"] for row in map(json.loads, gold.read_text(encoding="utf-8").splitlines())
             if row.get("split") in earlier}
    sources = {"short": _tiif(root, "short_description") + _geneval(root),
               "dense_tiif": _tiif(root, "long_description"),
               "dense_unigen_long": _unigenbench_layout(root, "test_prompts_en_long.csv"),
               "dense_unigen_short": _unigenbench_layout(root, "test_prompts_en.csv")}
    out = {}
    for pool, rows in sources.items():
        seen: set[str] = set()
        keep = []
        for prompt, source in sorted(rows, key=lambda r: r[1]):
            if prompt not in taken and prompt not in seen and SPATIAL.search(prompt):
                seen.add(prompt)
                keep.append((prompt, source))
        out[pool] = keep
    return out


def draw(root: Path, gold: Path, part: str, seed: int, short: int, dense: int,
         dense_pools: tuple[str, ...] = DENSE_POOLS) -> list[dict[str, str]]:
    """The drawn prompts: `short` of the short pool, then `dense` split evenly over the dense sources."""
    rng = random.Random(seed)
    found = pools(root, gold, part)
    if short > len(found["short"]):
        raise SystemExit(f"only {len(found['short'])} prompts are left in the short pool for {part}: pass --short "
                         f"{len(found['short'])} or less")
    picked = [("short", row) for row in rng.sample(found["short"], short)]
    for k, pool in enumerate(dense_pools):
        count = dense // len(dense_pools) + (1 if k < dense % len(dense_pools) else 0)
        if count > len(found[pool]):
            raise SystemExit(f"only {len(found[pool])} prompts are left in the {pool} pool for {part}")
        picked += [(pool, row) for row in rng.sample(found[pool], count)]
    return [{"prompt": prompt, "source": source, "pool": pool} for pool, (prompt, source) in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--part", default="heldout4", choices=PARTS[4:],
                        help="the part being drawn, heldout4 to heldout10 (only the parts before it are excluded)")
    parser.add_argument("--seed", type=int, default=17004)
    parser.add_argument("--short", type=int, default=44)
    parser.add_argument("--dense", type=int, default=44)
    parser.add_argument("--dense_pools", default=",".join(DENSE_POOLS),
                        help=f"comma-separated dense sources to split --dense over (default: {','.join(DENSE_POOLS)})")
    args = parser.parse_args()
    sizes = {pool: len(rows) for pool, rows in pools(args.benchmarks, args.gold, args.part).items()}
    print(f"pool sizes: {sizes}", file=sys.stderr)
    pools_asked = tuple(args.dense_pools.split(","))
    if not set(pools_asked) <= set(DENSE_POOLS):
        parser.error(f"--dense_pools: each of {pools_asked} must be one of {DENSE_POOLS}")
    for row in draw(args.benchmarks, args.gold, args.part, args.seed, args.short, args.dense, pools_asked):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
