"""Caption pretraining: caption truth from pixels' boxes, answer-word labels, curriculum, export -> reward init."""

from __future__ import annotations

import random
import re

import lightning as L
import pytest
import torch

from datamodules import PreferencePairDataModule
from modules import CaptionModule, RewardModule
from zoo.reward.captions import caption
from zoo.reward.clip import CLIPBackbone, TinyCLIP
from zoo.reward.internvl import InternVLBackbone, TinyInternVL
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
from zoo.world import PairSpec, Relation, Scene, WorldObject, make_pair, render
from zoo.world.render import Layout
from zoo.world.verify import verify


def test_verify_captions_answer_truly_for_each_side():
    rng = random.Random(0)
    for i in range(40):
        pair = make_pair(PairSpec(), 4, "train", i)
        for side in ("chosen", "rejected"):
            text = caption(pair["json"], side, "verify", rng)
            objects = {f"{o['colour']} {o['shape']}": k for k, o in enumerate(pair["json"]["objects"])}
            for clause in text.split(", and "):
                m = re.match(r"(?:an?|the) (\w+ \w+) (.+) (?:an?|the) (\w+ \w+) (yes|no)$", clause)
                a, phrase, b, answer = m.groups()
                scene = Scene(tuple(WorldObject(*n.split()) for n in objects),
                              (Relation(objects[a], phrase, objects[b]),))
                holds = verify(pair[side], scene).score == 1.0
                assert holds == (answer == "yes"), (side, clause)


def test_relation_captions_use_the_dominant_axis():
    objects = (WorldObject("red", "circle"), WorldObject("blue", "square"))
    layout = Layout(((2, 30, 14, 42), (40, 2, 52, 14)), (0, 1))  # red far left, a little lower
    meta = {"objects": [{"colour": "red", "shape": "circle"}, {"colour": "blue", "shape": "square"}],
            "chosen_boxes": layout.to_json(), "image_size": 64}
    text = caption(meta, "chosen", "relations_colour", random.Random(1))
    assert text in ("red blue left", "blue red right")
    assert render(objects, layout, 64).shape == (64, 64, 3)


def test_labels_fall_on_answer_words_and_the_curriculum_switches_kinds():
    module = CaptionModule(QwenVLBackbone(tiny=TinyQwenVL(hidden_size=32, layers=1)),
                           captions={"relations_colour": 0, "verify": 5})
    assert module.active_kinds(4) == ["relations_colour"] and module.active_kinds(5) == ["relations_colour", "verify"]
    tok = module.backbone.inputs.tokenizer
    answers = {t.strip("Ġ") for k in ("relations_colour", "verify") for t in tok.convert_ids_to_tokens(module._answers[k].tolist())}
    assert answers == {"left", "right", "above", "below", "yes", "no"}


@pytest.mark.parametrize("make", [lambda: QwenVLBackbone(tiny=TinyQwenVL(image_size=48, hidden_size=32, layers=1)),
                                  lambda: CLIPBackbone(tiny=TinyCLIP(image_size=48, hidden_size=32, layers=1,
                                                                     vision_layers=1)),
                                  lambda: InternVLBackbone(tiny=TinyInternVL(image_size=48, hidden_size=32, layers=1))])
def test_pretraining_lowers_the_loss_and_its_export_starts_the_reward_model(make, spatial_set, tmp_path):
    torch.manual_seed(0)
    module = CaptionModule(make(), captions={"relations": 0}, lr=3e-3, warmup_steps=0,
                           export_dir=str(tmp_path / "pre"))
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"), batch_size=8,
                                    train_samples_per_epoch=400)
    losses = []

    class Record(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            losses.append(float(outputs["loss"]))

    L.Trainer(max_steps=30, accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
              enable_checkpointing=False, callbacks=[Record()]).fit(module, datamodule=data)
    assert sum(losses[-5:]) < sum(losses[:5])
    reward = RewardModule(make(), init_from=str(tmp_path / "pre"))
    trained = dict(module.backbone.model.named_parameters())
    for name, param in reward.model.backbone.model.named_parameters():
        assert torch.equal(param, trained[name]), name
