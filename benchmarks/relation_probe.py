"""Does a policy's layout follow the relation in its prompt? For two fixed objects and every planar phrase, in both
word orders, the mean offset between the two objects' colour centroids over seeded images: a policy that places
objects by the prompt moves the first-named object left for "to the left of", right for "to the right of", and so
on; one that ignores the relation gives the same offsets for every row.

    python benchmarks/relation_probe.py --experiment configs/sft/tiny_flux.yaml --weights runs/spatialshapes/sft/policy \\
        --out benchmarks/runs/sft_tiny_policy_search/relation_probe.json

Prints a table (per prompt: images with both colours, mean dx and dy of the first-named object minus the second, in
pixels, y down) and the "relation effect": the mean signed offset in the direction each phrase asks for (positive:
the layout follows the relation; about 0: it ignores it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zoo.data.writing import write_json_atomic  # noqa: E402
from zoo.images import to_uint8  # noqa: E402
from zoo.policy.io import build_policy  # noqa: E402
from zoo.world.verify import PALETTE_NAMES, colour_map  # noqa: E402

DIRECTIONS = {"to the left of": (-1, 0), "to the right of": (1, 0), "above": (0, -1), "below": (0, 1)}


def centroid(colours: np.ndarray, index: int) -> tuple[float, float] | None:
    ys, xs = np.nonzero(colours == index)
    return (float(xs.mean()), float(ys.mean())) if len(xs) else None


def probe(policy, first: tuple[str, str], second: tuple[str, str], images: int, steps: int) -> list[dict]:
    """One row per phrase and word order: images with both colours and the mean offset first - second."""
    rows = []
    for phrase, (ux, uy) in DIRECTIONS.items():
        for a, b in ((first, second), (second, first)):
            prompt = f"a {a[0]} {a[1]} {phrase} a {b[0]} {b[1]}"
            with torch.no_grad():
                generated, _ = policy.generate([prompt] * images, list(range(images)), steps=steps)
            offsets = []
            for image in to_uint8(generated):
                colours = colour_map(image)
                ca, cb = centroid(colours, PALETTE_NAMES.index(a[0])), centroid(colours, PALETTE_NAMES.index(b[0]))
                if ca and cb:
                    offsets.append((ca[0] - cb[0], ca[1] - cb[1]))
            d = np.array(offsets) if offsets else np.zeros((0, 2))
            dx, dy = (float(d[:, 0].mean()), float(d[:, 1].mean())) if len(d) else (float("nan"), float("nan"))
            rows.append({"prompt": prompt, "both": len(d), "dx": dx, "dy": dy, "along": dx * ux + dy * uy})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", required=True, help="the policy's experiment YAML")
    parser.add_argument("--weights", required=True, help="an exported policy folder")
    parser.add_argument("--images", type=int, default=48, help="seeded images per prompt")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", help="JSON file")
    args = parser.parse_args()
    torch.manual_seed(0)
    policy = build_policy(args.experiment, args.weights)
    rows = probe(policy, ("red", "square"), ("blue", "circle"), args.images, args.steps)
    print("| prompt | images with both | dx | dy | along the phrase |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['prompt']} | {r['both']} | {r['dx']:+.2f} | {r['dy']:+.2f} | {r['along']:+.2f} |")
    along = [r["along"] for r in rows if r["both"]]
    effect = float(np.mean(along)) if along else float("nan")
    print(f"relation effect (mean offset along the phrase, px): {effect:+.2f}")
    if args.out:
        write_json_atomic(Path(args.out), {"experiment": args.experiment, "weights": args.weights,
                                           "images": args.images, "steps": args.steps, "rows": rows,
                                           "relation_effect": effect})


if __name__ == "__main__":
    main()
