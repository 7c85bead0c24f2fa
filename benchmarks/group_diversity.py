"""Is there a placement signal for GRPO in a policy's groups? For multi-relation world prompts, draw a group of images
per prompt (as a GRPO rollout does) and count, per relation, the groups where it holds in every sample that found both
objects, in none, or in some ("mixed": only these give a group advantage for placing it). Prints a table, writes JSON.

    python benchmarks/group_diversity.py --experiment configs/sft/tiny_flux.yaml \\
        --weights runs/spatialshapes/sft/policy --prompts "runs/spatialshapes/data/prompts/val-*.tar" \\
        --noise_levels 0 0.7 1.0 --out benchmarks/results/group_diversity.json

`--shared_noise true` starts every image of a group from one initial noise, so only the SDE noise varies (the
`shared_noise` option of GRPOModule); with noise level 0 every image of such a group is the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zoo.bench.spatialbench import load_spatialbench  # noqa: E402
from zoo.data.writing import write_json_atomic  # noqa: E402
from zoo.images import to_uint8  # noqa: E402
from zoo.policy.io import build_policy  # noqa: E402
from zoo.world import Scene, verify_batch  # noqa: E402


def relation_held(verdicts, scene: Scene) -> list[list[bool]]:
    """Per relation of the scene, whether it holds in each of the group's images that found both its objects."""
    return [[v.relations[j] for v in verdicts if v.objects[r.subject].found and v.objects[r.object].found]
            for j, r in enumerate(scene.relations)]


def outcome(held: list[bool]) -> str | None:
    """"right_only", "wrong_only" or "mixed" for one relation's results in a group (None when there are none)."""
    return None if not held else "right_only" if all(held) else "wrong_only" if not any(held) else "mixed"


def relation_outcomes(verdicts, scene: Scene) -> list[str | None]:
    """Per relation of the scene, its outcome over the group's images that found both its objects."""
    return [outcome(held) for held in relation_held(verdicts, scene)]


def group_outcomes(policy, items, group: int, steps: int, noise_level: float, sde_steps: int,
                   shared_noise: bool, seed: int) -> dict[str, float]:
    """Counts of right-only, wrong-only and mixed relation groups, and the means of the images."""
    counts = {"right_only": 0, "wrong_only": 0, "mixed": 0}
    found = clutter = placed = pairs = 0.0
    mask = torch.tensor([i < sde_steps for i in range(steps)])
    for n, item in enumerate(items):
        scene = Scene.from_json(item.data["scene"])
        seeds = [(seed * 1_000_003 + n) * 1009 + k for k in range(group)]
        noise_seeds = [(seed * 1_000_003 + n) * 1009 + group] * group if shared_noise else None
        images, _ = policy.generate([item.prompt] * group, seeds, steps=steps, noise_level=noise_level,
                                    sde_mask=mask, noise_seeds=noise_seeds)
        verdicts = verify_batch([to_uint8(image) for image in images], [scene] * group)
        found += sum(v.found_fraction for v in verdicts) / group
        clutter += sum(v.clutter for v in verdicts) / group
        for held in relation_held(verdicts, scene):
            pairs, placed = pairs + len(held), placed + sum(held)
            if held:
                counts[outcome(held)] += 1
    n = max(len(items), 1)
    return {**counts, "objects_found": found / n, "clutter": clutter / n, "placement": placed / max(pairs, 1),
            "pairs_found": int(pairs)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", required=True, help="the policy's experiment YAML")
    parser.add_argument("--weights", required=True, help="the policy's exported folder")
    parser.add_argument("--prompts", required=True, help="world prompt shards")
    parser.add_argument("--count", type=int, default=64, help="multi-relation prompts")
    parser.add_argument("--group", type=int, default=8, help="images per prompt")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--sde_steps", type=int, default=7, help="SDE steps (the first ones); ODE after")
    parser.add_argument("--noise_levels", type=float, nargs="+", default=[0.0, 0.7])
    parser.add_argument("--shared_noise", type=lambda s: s.lower() == "true", default=False)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="the JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    policy = build_policy(args.experiment, args.weights)
    items = [i for i in load_spatialbench(args.prompts) if len(i.data["scene"]["relations"]) > 1][:args.count]
    rows = {}
    print(f"{len(items)} prompts, {args.group} images each, shared noise {args.shared_noise}")
    print("| noise level | right only | wrong only | mixed | placement | objects found | clutter |")
    print("|---|---|---|---|---|---|---|")
    for level in args.noise_levels:
        r = group_outcomes(policy, items, args.group, args.steps, level, args.sde_steps, args.shared_noise, args.seed)
        rows[str(level)] = r
        print(f"| {level} | {r['right_only']} | {r['wrong_only']} | {r['mixed']} | {r['placement']:.3f} "
              f"| {r['objects_found']:.3f} | {r['clutter']:.4f} |", flush=True)
    result = {"experiment": args.experiment, "weights": args.weights, "prompts": len(items), "group": args.group,
              "sde_steps": args.sde_steps, "shared_noise": args.shared_noise, "rows": rows}
    if args.out:
        write_json_atomic(Path(args.out), result)
    return result


if __name__ == "__main__":
    main()
