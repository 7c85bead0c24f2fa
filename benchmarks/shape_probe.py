"""Single-object shape probe (issue 15): can a tiny Flux policy draw the prompt's shape, with the object at a fixed
place or anywhere? A bare flow-matching loop on rendered "a <colour> <shape>" scenes, then images judged by the
world's verifier (colour found; right shape under v1.1) for several sampling schedules. Prints one line per schedule
and writes JSON.

    python benchmarks/shape_probe.py --placement random --steps 2000 --out benchmarks/runs/shape_probe/random.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from zoo.images import save_grid, to_uint8
from zoo.policy.flux import FluxPolicy, TinyFlux
from zoo.world.render import Layout, render
from zoo.world.scene import WorldObject
from zoo.world.spec import COLOURS, MAX_SIDE_FRACTION, MIN_SIDE_FRACTION, SHAPES
from zoo.world.verify import colour_map, find_object

# the tiny Flux sizes shipped before 2fe44a0 (pixel factor 2, velocity); the probe's records start from them
BASELINE = dict(image_size=32, pixel_factor=2, layers=1, single_layers=2, heads=4, head_dim=32,
               axes_dims_rope=[8, 12, 12], text_dim=64, text_layers=2, max_sequence_length=40, identity_init=True)


def scenes(rng: np.random.Generator, n: int, size: int, placement: str,
           grid: int = 4) -> tuple[torch.Tensor, list[str], list]:
    """n single-object scenes: images (n, 3, size, size) in [0, 1], prompts, (colour, shape) per scene."""
    images, prompts, objects = [], [], []
    lo, hi = int(np.ceil(MIN_SIDE_FRACTION * size)), int(MAX_SIDE_FRACTION * size)
    for _ in range(n):
        colour, shape = list(COLOURS)[rng.integers(len(COLOURS))], SHAPES[rng.integers(len(SHAPES))]
        side = int(rng.integers(lo, hi + 1)) if placement != "grid" else size // 4
        if placement == "fixed":
            x, y = ((size - side) // 2,) * 2
        elif placement == "grid":  # a quarter of the canvas, at multiples of `grid` pixels
            x, y = grid * rng.integers(0, (size - side) // grid + 1, size=2)
        else:
            x, y = rng.integers(0, size - side + 1, size=2)
        box = (int(x), int(y), int(x) + side, int(y) + side)
        image = render([WorldObject(colour, shape)], Layout((box,), (0,)), size)
        images.append(torch.from_numpy(image).permute(2, 0, 1).float() / 255)
        prompts.append(f"a {colour} {shape}")
        objects.append((colour, shape))
    return torch.stack(images), prompts, objects


def shifted(steps: int, shift: float) -> list[float]:
    """`steps` sigmas from linspace(1, 1/steps) under a fixed time shift, ending at 0."""
    t = np.linspace(1.0, 1 / steps, steps)
    return [float(s) for s in shift * t / (1 + (shift - 1) * t)] + [0.0]


def judge(images: torch.Tensor, objects: list) -> dict[str, float]:
    """Colour found and right shape (v1.1) over the images."""
    found = right = 0
    for array, (colour, shape) in zip(to_uint8(images), objects):
        verdict, _ = find_object(colour_map(array), colour, shape)
        found += verdict.found
        right += verdict.found and verdict.shape == shape
    return {"colour_found": found / len(objects), "right_shape": right / len(objects)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placement", choices=("fixed", "random", "grid"), default="random")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps of --batch images")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tiny", default="{}",
                        help='JSON overrides of BASELINE; the shipped sizes: {"pixel_factor": 4, "prediction": "x0"}')
    parser.add_argument("--grid", type=int, default=4, help="placement grid: positions at multiples of this (px)")
    parser.add_argument("--batch", type=int, default=8, help="images a step")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--count", type=int, default=96, help="test prompts")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/runs/shape_probe/probe.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tiny = {**BASELINE, **json.loads(args.tiny)}
    policy = FluxPolicy(tiny=TinyFlux(**tiny), guidance=1.0)
    size, rng, start = tiny["image_size"], np.random.default_rng(0), time.time()
    optimizer = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=args.lr)
    policy.train()
    for step in range(args.steps):
        images, prompts, _ = scenes(rng, args.batch, size, args.placement, args.grid)
        loss = policy.flow_matching_loss(images, prompts, torch.Generator().manual_seed(step))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    policy.eval()
    _, prompts, objects = scenes(np.random.default_rng(123), args.count, size, args.placement, args.grid)
    rows, default = [], policy.sigmas
    for label, steps, shift in (("8 steps", 8, None), ("32 steps", 32, None), ("8 steps, shift 4", 8, 4.0)):
        policy.sigmas = (lambda n, s=shift: shifted(n, s)) if shift else default
        with torch.no_grad():
            images, _ = policy.generate(prompts, list(range(args.count)), steps=steps)
        rows.append({"sampling": label, **judge(images, objects)})
        print(f"{args.placement} {args.steps} steps, {label}: colour found {rows[-1]['colour_found']:.3f}, "
              f"right shape {rows[-1]['right_shape']:.3f}", flush=True)
        save_grid(images[:32], args.out.with_name(f"{args.out.stem}_{label.replace(' ', '').replace(',', '_')}.png"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "tiny": tiny, "rows": rows,
                                    "seconds": time.time() - start}, indent=1))


if __name__ == "__main__":
    main()
