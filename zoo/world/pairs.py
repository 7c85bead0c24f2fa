"""Deterministic world-v1 preference pairs and RL prompts, one per (seed, split, index)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.world.perturb import perturb
from zoo.world.render import Layout, render
from zoo.world.sampler import SceneSampler
from zoo.world.scene import Relation, Scene
from zoo.world.spec import WORLD_VERSION
from zoo.world.verify import verify

SPLITS = ("train", "val", "test")
_PAIR_STREAM, _PROMPT_STREAM = 0, 1
MAX_ATTEMPTS = 1000


@dataclass(frozen=True)
class PairSpec:
    """What pairs and prompts to draw.

    Args:
        size: canvas side in pixels.
        multi_fraction: fraction of pairs with 2-3 perturbations (the rest have exactly 1).
        object_counts: allowed numbers of objects per scene.
        depth_prob: probability of a front/behind relation instead of a 2D one.
        grid: 0, or the layout grid in pixels (see `SceneSampler.grid`).
    """

    size: int = 64
    multi_fraction: float = 0.5
    object_counts: tuple[int, ...] = (2, 3, 4)
    depth_prob: float = 0.0
    grid: int = 0
    sampler: SceneSampler = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.multi_fraction <= 1.0:
            raise ValueError(f"multi_fraction must be in [0, 1], got {self.multi_fraction}")
        if self.multi_fraction > 0 and max(self.object_counts) < 3:
            raise ValueError("2-3 perturbations need scenes of 3 or 4 objects; add them to object_counts")
        sampler = SceneSampler(self.size, tuple(self.object_counts), self.depth_prob, grid=self.grid)
        object.__setattr__(self, "sampler", sampler)


def record_rng(seed: int, split: str, index: int, stream: int) -> np.random.Generator:
    """The generator for one record: a pure function of (seed, split, index, stream)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return np.random.default_rng([seed, SPLITS.index(split), index, stream])


def make_pair(spec: PairSpec, seed: int, split: str, index: int) -> dict[str, Any]:
    """One pair: {"chosen": HxWx3 uint8, "rejected": ..., "json": metadata} following world.md."""
    rng = record_rng(seed, split, index, _PAIR_STREAM)
    multi = rng.random() < spec.multi_fraction
    for _ in range(MAX_ATTEMPTS):
        scene = spec.sampler.sample_scene(rng, min_relations=2 if multi else 1)
        count = 1 if not multi else int(rng.integers(2, len(scene.relations) + 1))
        perturbed, edits = perturb(scene, count, rng)
        sides = spec.sampler.sample_sides(len(scene.objects), rng)
        chosen_layout = spec.sampler.sample_layout(scene, sides, rng)
        broken = [scene.relations[e.relation] for e in edits]
        rejected_layout = spec.sampler.sample_layout(perturbed, sides, rng, forbidden=broken)
        if chosen_layout is None or rejected_layout is None:
            continue
        chosen = render(scene.objects, chosen_layout, spec.size)
        rejected = render(scene.objects, rejected_layout, spec.size)
        if _has_depth(scene, perturbed) and not _occlusion_checks_pass(scene, perturbed, chosen, rejected,
                                                                      chosen_layout, rejected_layout):
            continue
        meta = {
            "prompt": scene.prompt,
            "perturbed_prompt": perturbed.prompt,
            "n_perturbations": count,
            "perturbations": [e.to_json() for e in edits],
            **scene.to_json(),
            "perturbed_relations": [r.to_json() for r in perturbed.relations],
            "chosen_boxes": chosen_layout.to_json(),
            "rejected_boxes": rejected_layout.to_json(),
            "seed": seed,
            "split": split,
            "index": index,
            "image_size": spec.size,
            "world": WORLD_VERSION,
        }
        return {"chosen": chosen, "rejected": rejected, "json": meta}
    raise RuntimeError(f"no valid pair after {MAX_ATTEMPTS} scenes (seed={seed}, split={split}, index={index})")


def make_prompt(spec: PairSpec, seed: int, split: str, index: int) -> dict[str, Any]:
    """One RL prompt record: {prompt, objects, relations, tag, ...} for a scene that has a layout."""
    rng = record_rng(seed, split, index, _PROMPT_STREAM)
    for _ in range(MAX_ATTEMPTS):
        scene = spec.sampler.sample_scene(rng)
        if spec.sampler.sample_layout(scene, spec.sampler.sample_sides(len(scene.objects), rng), rng) is None:
            continue  # contradictory relations: no image could satisfy this prompt
        return {"prompt": scene.prompt, **scene.to_json(), "tag": relation_tag(scene), "seed": seed,
                "split": split, "index": index, "image_size": spec.size, "world": WORLD_VERSION}
    raise RuntimeError(f"no satisfiable prompt after {MAX_ATTEMPTS} scenes (seed={seed}, split={split}, index={index})")


def relation_tag(scene: Scene) -> str:
    """The benchmark bucket of a prompt: its relation count, e.g. "relations_2"."""
    return f"relations_{len(scene.relations)}"


def _has_depth(*scenes: Scene) -> bool:
    return any(r.is_depth for s in scenes for r in s.relations)


def _occlusion_checks_pass(scene: Scene, perturbed: Scene, chosen: np.ndarray, rejected: np.ndarray,
                           chosen_layout: Layout, rejected_layout: Layout) -> bool:
    """With occlusion the visible regions differ from the boxes: redraw unless the verifier sees
    every object whole (box and shape), all relations of each side's prompt, and the original
    prompt broken on the rejected side."""
    for image, truth, layout in ((chosen, scene, chosen_layout), (rejected, perturbed, rejected_layout)):
        verdict = verify(image, truth)
        if not all(verdict.relations) or any(not o.shape_ok or o.box != b for o, b in zip(verdict.objects, layout.boxes)):
            return False
    return not all(verify(rejected, scene).relations)


def scene_of(meta: dict[str, Any]) -> Scene:
    """The original scene of a pair or prompt record."""
    return Scene.from_json(meta)


def perturbed_scene_of(meta: dict[str, Any]) -> Scene:
    """The perturbed scene of a pair record."""
    relations = tuple(Relation(int(s), str(p), int(o)) for s, p, o in meta["perturbed_relations"])
    return Scene.from_json(meta).with_relations(relations)
