"""World v1.1 (docs/world.md): grammar, geometry, perturbations, renderer and the pixel verifier."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from zoo.world import PairSpec, Relation, Scene, WorldObject, make_pair, perturbed_scene_of, scene_of, verify
from zoo.world.geometry import planar_relations
from zoo.world.perturb import apply, perturb
from zoo.world.render import Layout, render
from zoo.world.sampler import SceneSampler
from zoo.world.spec import COLOURS


def test_prompt_grammar_matches_world_md_examples():
    red, blue, green = WorldObject("red", "circle"), WorldObject("blue", "square"), WorldObject("green", "triangle")
    one = Scene((red, blue), (Relation(0, "to the left of", 1),))
    assert one.prompt == "a red circle to the left of a blue square"
    two = Scene((red, blue, green), (Relation(0, "to the left of", 1), Relation(2, "above", 1)))
    assert two.prompt == ("a red circle to the left of a blue square, "
                          "and a green triangle above the blue square")
    orange = Scene((WorldObject("orange", "circle"), red), (Relation(1, "behind", 0),))
    assert orange.prompt == "a red circle behind an orange circle"


def test_scene_rejects_repeated_colours_and_double_relations():
    red = WorldObject("red", "circle")
    with pytest.raises(ValueError, match="different colours"):
        Scene((red, WorldObject("red", "square")))
    blue = WorldObject("blue", "square")
    with pytest.raises(ValueError, match="related twice"):
        Scene((red, blue), (Relation(0, "above", 1), Relation(1, "to the left of", 0)))


def test_relation_rule_shrinks_offsets_and_allows_diagonals():
    a = [0, 0, 10, 10]
    # 12 px to the right, margin 0.1 * 20 = 2: still clearly "right of"
    assert planar_relations([12, 0, 22, 10], a) == {"to the right of"}
    # 1.5 px apart: shrunk to zero, no 2D relation
    assert planar_relations([1.5, 0, 11.5, 10], a) == set()
    # equal offsets on both axes: diagonal satisfies two phrases
    assert planar_relations([20, 20, 30, 30], a) == {"to the right of", "below"}


def test_perturbations_edit_one_relation_each():
    rng = np.random.default_rng(0)
    rel = Relation(0, "to the left of", 1)
    assert apply(rel, "flip", rng) == Relation(0, "to the right of", 1)
    assert apply(rel, "swap", rng) == Relation(1, "to the left of", 0)
    assert apply(rel, "rotate", rng).phrase in ("above", "below")
    with pytest.raises(ValueError, match="cannot rotate"):
        apply(Relation(0, "in front of", 1), "rotate", rng)
    objects = tuple(WorldObject(c, "square") for c in ("red", "blue", "green", "yellow"))
    scene = Scene(objects, (Relation(0, "above", 1), Relation(2, "below", 1), Relation(3, "to the left of", 2)))
    perturbed, edits = perturb(scene, 3, rng)
    assert sorted(e.relation for e in edits) == [0, 1, 2]
    assert all(perturbed.relations[i] != scene.relations[i] for i in range(3))


def _agrees(pair: dict) -> bool:
    meta = pair["json"]
    verdict = verify(pair["chosen"], scene_of(meta))
    return (verdict.score == 1.0 and all(o.found and o.shape_ok for o in verdict.objects)
            and [list(o.box) for o in verdict.objects] == meta["chosen_boxes"])


@pytest.mark.parametrize("size", [64, 256])
def test_verifier_agrees_with_renderer_on_2000_scenes(size):
    spec = PairSpec(size=size)
    disagreements = [i for i in range(2000) if not _agrees(make_pair(spec, 11, "train", i))]
    assert disagreements == []


@pytest.mark.parametrize("size,depth_prob", [(32, 0.0), (512, 0.0), (64, 0.5)])
def test_verifier_agrees_at_other_sizes_and_with_occlusion(size, depth_prob):
    spec = PairSpec(size=size, depth_prob=depth_prob)
    n = 40 if size == 512 else 300
    pairs = [make_pair(spec, 5, "val", i) for i in range(n)]
    assert all(_agrees(p) for p in pairs)
    if depth_prob:
        assert any(r[1] in ("in front of", "behind") for p in pairs for r in p["json"]["relations"])


def test_every_pair_obeys_the_pair_rules():
    spec = PairSpec(size=64, multi_fraction=0.5)
    counts = {1: 0, 2: 0, 3: 0}
    for i in range(300):
        pair = make_pair(spec, 2, "test", i)
        meta = pair["json"]
        scene, perturbed = scene_of(meta), perturbed_scene_of(meta)
        assert verify(pair["chosen"], scene).score == 1.0
        assert verify(pair["rejected"], perturbed).score == 1.0
        broken = verify(pair["rejected"], scene).relations
        assert not all(broken)
        # every perturbed relation is broken in the rejected image
        assert all(not broken[p["relation"]] for p in meta["perturbations"])
        assert meta["n_perturbations"] == len(meta["perturbations"])
        assert meta["objects"] == perturbed.to_json()["objects"] and meta["world"] == "v1"
        counts[meta["n_perturbations"]] += 1
    assert counts[1] > 100 and counts[2] + counts[3] > 100 and counts[3] > 0


@pytest.mark.parametrize("size,grid", [(64, 16), (64, 8), (32, 8)])
def test_grid_pairs_put_every_box_on_the_grid_and_obey_the_pair_rules(size, grid):
    spec = PairSpec(size=size, multi_fraction=0.5, grid=grid)
    side = spec.sampler.grid_side
    assert side % grid == 0 and spec.sampler.side_range[0] <= side <= spec.sampler.side_range[1]
    for i in range(60):
        pair = make_pair(spec, 3, "train", i)
        meta = pair["json"]
        assert verify(pair["chosen"], scene_of(meta)).score == 1.0
        assert verify(pair["rejected"], perturbed_scene_of(meta)).score == 1.0
        for x0, y0, x1, y1 in meta["chosen_boxes"] + meta["rejected_boxes"]:
            assert x0 % grid == 0 and y0 % grid == 0 and x1 - x0 == side and y1 - y0 == side


def test_grid_zero_is_the_default_world_and_an_impossible_grid_is_refused():
    assert make_pair(PairSpec(grid=0), 5, "train", 9)["json"] == make_pair(PairSpec(), 5, "train", 9)["json"]
    with pytest.raises(ValueError, match="grid 32 px leaves no allowed box side"):
        SceneSampler(64, grid=32)


def test_generation_is_a_function_of_seed_split_index():
    spec = PairSpec()
    a, b = make_pair(spec, 7, "train", 42), make_pair(spec, 7, "train", 42)
    assert a["json"] == b["json"] and np.array_equal(a["chosen"], b["chosen"])
    assert make_pair(spec, 8, "train", 42)["json"] != a["json"]
    assert make_pair(spec, 7, "val", 42)["json"] != a["json"]


def _antialiased(scene: Scene, layout: Layout, size: int, factor: int = 4) -> np.ndarray:
    """An independent renderer written from world.md: PIL shapes at 4x, downsampled (anti-aliased)."""
    big = Image.new("RGB", (size * factor, size * factor), (255, 255, 255))
    draw = ImageDraw.Draw(big)
    for idx in layout.order:
        x0, y0, x1, y1 = (v * factor for v in layout.boxes[idx])
        colour, shape = COLOURS[scene.objects[idx].colour], scene.objects[idx].shape
        if shape == "circle":
            draw.ellipse([x0, y0, x1 - 1, y1 - 1], fill=colour)
        elif shape == "square":
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=colour)
        else:
            draw.polygon([((x0 + x1) / 2, y0), (x0, y1 - 1), (x1 - 1, y1 - 1)], fill=colour)
    return np.asarray(big.resize((size, size), Image.BOX))


def test_verifier_judges_an_independent_antialiased_renderer():
    sampler = SceneSampler(size=96)
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 100:
        scene = sampler.sample_scene(rng)
        layout = sampler.sample_layout(scene, sampler.sample_sides(len(scene.objects), rng), rng)
        if layout is None:
            continue
        verdict = verify(_antialiased(scene, layout, 96), scene)
        assert verdict.all_found and verdict.score == 1.0, (scene.prompt, verdict.to_json())
        assert verdict.shapes_fraction == 1.0, (scene.prompt, verdict.to_json())
        checked += 1


def test_verifier_fails_wrong_layouts_and_ignores_scattered_specks():
    objects = (WorldObject("red", "circle"), WorldObject("blue", "square"))
    scene = Scene(objects, (Relation(0, "to the left of", 1),))
    right = render(objects, Layout(((4, 20, 20, 36), (40, 20, 56, 36)), (0, 1)), 64)
    wrong = render(objects, Layout(((40, 20, 56, 36), (4, 20, 20, 36)), (0, 1)), 64)
    assert verify(right, scene).score == 1.0
    assert verify(wrong, scene).score == 0.0 and verify(wrong, scene).all_found
    specks = np.full((64, 64, 3), 255, np.uint8)
    rng = np.random.default_rng(0)
    ys, xs = rng.integers(0, 64, 300), rng.integers(0, 64, 300)
    specks[ys, xs] = COLOURS["red"]  # ~7 % of pixels red, but scattered
    specks[::2, :] = 255  # break vertical neighbours: no 4-connected region of 41 pixels
    verdict = verify(specks, scene)
    assert not verdict.objects[0].found and verdict.score == 0.0


def _two_objects(shape_a: str = "circle", shape_b: str = "square") -> tuple[Scene, np.ndarray]:
    objects = (WorldObject("red", shape_a), WorldObject("blue", shape_b))
    scene = Scene(objects, (Relation(0, "to the left of", 1),))
    return scene, render(objects, Layout(((4, 20, 20, 36), (40, 20, 56, 36)), (0, 1)), 64)


def test_v1_1_agrees_with_the_renderer_on_every_rendered_scene():
    sampler = SceneSampler(size=64)
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 200:
        scene = sampler.sample_scene(rng)
        layout = sampler.sample_layout(scene, sampler.sample_sides(len(scene.objects), rng), rng)
        if layout is None:
            continue
        verdict = verify(render(scene.objects, layout, 64), scene)
        assert verdict.version == "v1.1" and verdict.score == 1.0 and verdict.clutter == 0.0, verdict.to_json()
        assert all(o.found and o.colour_found and o.shape_ok for o in verdict.objects), verdict.to_json()
        checked += 1


def test_v1_1_does_not_find_an_object_of_the_wrong_shape_and_counts_it_as_clutter():
    truth, _ = _two_objects("circle", "square")
    _, drawn = _two_objects("square", "square")  # the red object is drawn as a square
    v11, v1 = verify(drawn, truth), verify(drawn, truth, version="v1")
    red = v11.objects[0]
    assert not red.found and red.colour_found and red.shape == "square" and not red.shape_ok
    assert v11.objects[1].found and v11.score == 0.0 and v11.relations == (False,)
    assert v1.objects[0].found and v1.score == 1.0  # v1 counted it: the rule v1.1 closes
    assert v11.clutter == pytest.approx(16 * 16 / 64**2)  # the wrong-shaped red square is stray colour
    assert v1.clutter == 0.0  # v1 counts the red region as found, so not as clutter
    assert v11.to_json()["world"] == "v1.1" and v11.to_json()["objects"][0]["colour_found"] is True


def test_v1_1_measures_specks_as_clutter_and_still_finds_the_objects():
    scene, image = _two_objects()
    specks = image.copy()
    rng = np.random.default_rng(0)
    white = np.flatnonzero((specks == 255).all(-1).ravel())
    chosen = rng.choice(white, 200, replace=False)
    colours = list(COLOURS.values())
    for k, flat in enumerate(chosen):  # single pixels of every palette colour on the white background
        specks[flat // 64, flat % 64] = colours[k % len(colours)]
    lone = [f for f in chosen if all(not (0 <= f // 64 + dy < 64 and 0 <= f % 64 + dx < 64)
                                     or (image[f // 64 + dy, f % 64 + dx] == 255).all()
                                     for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)))]
    verdict = verify(specks, scene)
    assert verdict.score == 1.0 and all(o.found for o in verdict.objects)
    # every speck pixel is clutter except those that joined an object's region (a red or blue speck touching it)
    assert len(lone) / 64**2 <= verdict.clutter <= 200 / 64**2
    assert verdict.clutter > 0.04


def test_v1_1_on_an_empty_canvas_finds_nothing_and_has_no_clutter():
    scene, _ = _two_objects()
    verdict = verify(np.full((64, 64, 3), 255, np.uint8), scene)
    assert verdict.score == 0.0 and verdict.clutter == 0.0
    assert not any(o.found or o.colour_found for o in verdict.objects)
    with pytest.raises(ValueError, match="unknown verifier version"):
        verify(np.full((64, 64, 3), 255, np.uint8), scene, version="v2")
