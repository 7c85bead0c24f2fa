"""SpatialShapes world v1 (world.md): scenes, prompts, renderer, perturbations and the pixel verifier."""

from zoo.world.geometry import planar_relation_holds, planar_relations
from zoo.world.pairs import PairSpec, make_pair, make_prompt, perturbed_scene_of, scene_of
from zoo.world.perturb import Perturbation, perturb
from zoo.world.render import Layout, render, shape_mask
from zoo.world.sampler import SceneSampler
from zoo.world.scene import Relation, Scene, WorldObject
from zoo.world.spec import COLOURS, PHRASES, SHAPES, WORLD_VERSION
from zoo.world.verify import ObjectVerdict, Verdict, verify, verify_batch

__all__ = [
    "COLOURS", "PHRASES", "SHAPES", "WORLD_VERSION", "Layout", "ObjectVerdict", "PairSpec", "Perturbation",
    "Relation", "Scene", "SceneSampler", "Verdict", "WorldObject", "make_pair", "make_prompt", "perturb",
    "perturbed_scene_of", "planar_relation_holds", "planar_relations", "render", "scene_of", "shape_mask",
    "verify", "verify_batch",
]
