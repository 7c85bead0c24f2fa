"""Layout-pretrained T5 for tiny policies: per-token targets, a pretraining that binds colours to shapes and places
them, the Lightning module's export, and the policy's `tiny.t5_from` (loaded, saved, replaced by a saved policy)."""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import pytest
import torch
import yaml

from datamodules import PreferencePairDataModule
from modules.text_layout import TextLayoutModule
from zoo.policy.base import frozen_init
from zoo.policy.flux import FluxPolicy, TinyFlux, tiny_t5, tiny_tokenizer
from zoo.policy.io import build_policy
from zoo.policy.text_layout import (IGNORE, LayoutHead, centre_cell, layout_loss, layout_targets, word_objects)
from zoo.world import PairSpec
from zoo.world.spec import COLOURS, SHAPES

TINY = dict(image_size=32, text_dim=32, text_layers=2, max_sequence_length=32)


def test_targets_mark_every_mention_of_each_object_and_nothing_else():
    prompt = "a purple circle to the right of a green square, and the green square below an orange triangle"
    objects = [{"colour": "purple", "shape": "circle"}, {"colour": "green", "shape": "square"},
               {"colour": "orange", "shape": "triangle"}]
    boxes = [[40, 8, 56, 24], [0, 0, 16, 16], [16, 48, 32, 64]]  # cells (4 x 4 on 64 px): 7, 0, 13
    assert [i for _, _, i in word_objects(prompt, objects)] == [0, 0, 1, 1, 1, 1, 2, 2]
    tokenizer = tiny_tokenizer(32)
    t = layout_targets(tokenizer, [prompt], [{"objects": objects}], [boxes], 64, 4, 32)
    words = [w.strip("Ġ") for w in tokenizer.convert_ids_to_tokens(t.input_ids[0])]
    marked = {(w, int(c), int(s), int(k)) for w, c, s, k in zip(words, t.colour[0], t.shape[0], t.cell[0]) if k != IGNORE}
    colour, shape = list(COLOURS).index, SHAPES.index
    assert marked == {("purple", colour("purple"), shape("circle"), 7), ("circle", colour("purple"), shape("circle"), 7),
                      ("green", colour("green"), shape("square"), 0), ("square", colour("green"), shape("square"), 0),
                      ("orange", colour("orange"), shape("triangle"), 13),
                      ("triangle", colour("orange"), shape("triangle"), 13)}
    assert int((t.cell[0] != IGNORE).sum()) == 8  # "green square" twice; "to the right of", "a", "," etc. unmarked
    assert centre_cell([63, 63, 64, 64], 64, 4) == 15 and centre_cell([0, 0, 2, 2], 64, 4) == 0
    # one canvas side per prompt: the same boxes on a 128 px canvas sit in other cells (purple's centre 48,16 -> 1)
    both = layout_targets(tokenizer, [prompt, prompt], [{"objects": objects}] * 2, [boxes] * 2, [64, 128], 4, 32)
    assert torch.equal(both.cell[0], t.cell[0])
    assert set(both.cell[1][t.colour[0] == colour("purple")].tolist()) == {1}


def _scenes(seed: int, count: int) -> tuple[list[str], list[dict], list[list]]:
    """World scenes with a layout each (no rendering): prompts, scene records and boxes on a 48 px canvas."""
    sampler, rng = PairSpec(size=48).sampler, np.random.default_rng(seed)
    prompts, scenes, boxes = [], [], []
    while len(prompts) < count:
        scene = sampler.sample_scene(rng)
        layout = sampler.sample_layout(scene, sampler.sample_sides(len(scene.objects), rng), rng)
        if layout is not None:
            prompts.append(scene.prompt)
            scenes.append(scene.to_json())
            boxes.append(layout.to_json())
    return prompts, scenes, boxes


@pytest.fixture
def one_thread():
    """One torch thread (a tiny model's steps are several times slower with two threads on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fit(encoder, head, params, data, tokenizer, steps: int, rng: random.Random) -> None:
    optimizer = torch.optim.Adam(params, lr=3e-3)
    for _ in range(steps):
        rows = rng.sample(range(len(data[0])), 64)
        batch = layout_targets(tokenizer, *([part[r] for r in rows] for part in data), 48, 3, 32)
        loss, _ = layout_loss(encoder, head, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_layout_pretraining_binds_each_colour_to_its_shape_which_the_random_encoder_cannot(one_thread):
    tokenizer, tiny = tiny_tokenizer(32), TinyFlux(**TINY)
    train, held_out = _scenes(0, 600), layout_targets(tokenizer, *_scenes(1, 100), 48, 3, 32)
    torch.manual_seed(0)
    with frozen_init(0):
        encoder = tiny_t5(tiny, tokenizer)
    head, rng = LayoutHead(tiny.text_dim, 3), random.Random(0)
    # the random encoder, frozen, with only the read-out trained: a shape word's state hardly says its colour
    _fit(encoder.eval(), head, head.parameters(), train, tokenizer, 150, rng)
    with torch.no_grad():
        _, frozen = layout_loss(encoder, head, held_out)
    _fit(encoder.train(), head, [*encoder.parameters(), *head.parameters()], train, tokenizer, 150, rng)
    with torch.no_grad():
        _, learned = layout_loss(encoder.eval(), head, held_out)
    assert frozen["colour_accuracy"] < 0.8 and learned["colour_accuracy"] > 0.95 and learned["shape_accuracy"] > 0.95


def test_the_module_exports_an_encoder_the_policy_loads_saves_and_a_saved_policy_replaces(spatial_set, tmp_path):
    torch.manual_seed(0)
    module = TextLayoutModule(tiny=TINY, grid=3, export_dir=str(tmp_path / "t5"))
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"), batch_size=8, eval_batch_size=8,
                                    train_samples_per_epoch=40)
    assert all(m.p == 0.0 for m in module.encoder.modules() if isinstance(m, torch.nn.Dropout))  # the default
    before = {k: v.clone() for k, v in module.encoder.state_dict().items()}
    trainer = L.Trainer(max_steps=4, accelerator="cpu", limit_val_batches=1, val_check_interval=4, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        default_root_dir=tmp_path)
    trainer.fit(module, data)
    assert {"val/layout_loss", "val/colour_accuracy", "val/cell_accuracy"} <= set(trainer.callback_metrics)
    exported = module.encoder.state_dict()
    assert any(not torch.equal(before[k], exported[k]) for k in before)

    policy = FluxPolicy(tiny=TinyFlux(**TINY, t5_from=str(tmp_path / "t5")))
    assert all(torch.equal(v, exported[k]) for k, v in policy.pipe.text_encoder_2.state_dict().items())
    policy.save(tmp_path / "policy")
    assert (tmp_path / "policy" / "text_encoders" / "text_encoder_2" / "model.safetensors").is_file()
    # a config naming a t5_from that is gone still builds from a saved policy: its text_encoders/ replace it
    config = tmp_path / "experiment.yaml"
    tiny = {**TINY, "t5_from": str(tmp_path / "gone")}
    config.write_text(yaml.safe_dump({"model": {"init_args": {"policy": {
        "class_path": "zoo.policy.flux.FluxPolicy", "init_args": {"tiny": tiny}}}}}))
    rebuilt = build_policy(config, tmp_path / "policy")
    prompt = ["a red circle above a blue square"]
    assert torch.equal(rebuilt.encode_text(prompt).prompt_embeds, policy.encode_text(prompt).prompt_embeds)
    with pytest.raises(FileNotFoundError, match="t5_from"):
        build_policy(config)
    with pytest.raises(ValueError, match="t5_from: the T5EncoderModel .* does not fit"):
        FluxPolicy(tiny=TinyFlux(**{**TINY, "text_layers": 1}, t5_from=str(tmp_path / "t5")))
    with pytest.raises(ValueError, match="tiny.t5_from"):
        TextLayoutModule(tiny={**TINY, "t5_from": str(tmp_path / "t5")})
