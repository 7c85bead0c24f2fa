"""The reward-backbone registry and protocol: every registered family builds an untrained tiny backbone, round-trips
through a scorer folder and serves `zoo reward table --untrained`; bad names fail naming what is registered."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from zoo.errors import UsageError
from zoo.reward.backbones import (RewardBackbone, discover, get_backbone_class, register_backbone, untrained_backbone,
                                  untrained_names)
from zoo.reward.model import RewardModel
from zoo.reward.scorer import export_scorer, load
from zoo.settings import SettingsError
from zoo.world import PairSpec, make_pair

FAMILIES = {cls.__name__: cls.untrained_names[0] for cls in discover().values()}  # one tiny build per family


@pytest.fixture(scope="module")
def items():
    from PIL import Image

    made = [make_pair(PairSpec(size=32), 0, "train", i) for i in range(3)]
    return [p["json"]["prompt"] for p in made], [Image.fromarray(p["chosen"]) for p in made]


def test_the_shipped_families_are_registered_with_their_untrained_names():
    assert {"QwenVLBackbone", "CLIPBackbone"} <= set(discover())
    assert {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "clip"} <= set(untrained_names())
    assert get_backbone_class("zoo.reward.clip.CLIPBackbone") is discover()["CLIPBackbone"]


@pytest.mark.parametrize("kind", sorted(FAMILIES))
def test_every_family_round_trips_through_a_scorer_folder(kind, items, tmp_path):
    torch.manual_seed(0)
    backbone = untrained_backbone(FAMILIES[kind])
    assert type(backbone).__name__ == kind and backbone.decoder_layers() and backbone.fsdp_roots()
    model = RewardModel(backbone, "linear").eval()
    prompts, images = items
    before = model.score(prompts, images)
    export_scorer(model, tmp_path / "scorer")
    meta = json.loads((tmp_path / "scorer" / "scorer.json").read_text())
    assert meta["backbone"]["class"] == kind and meta["backbone"] == backbone.export_settings()
    after = torch.tensor(load(tmp_path / "scorer").score(prompts, images))
    assert torch.allclose(before, after, atol=1e-5)


def test_head_init_comes_from_the_backbone():
    clip = untrained_backbone("clip")
    head = RewardModel(clip, "linear").head
    assert clip.head_init() == pytest.approx(float(clip.model.logit_scale.detach().exp()))
    assert torch.equal(head.proj.weight, torch.full((1, clip.hidden_size), clip.head_init()))
    assert untrained_backbone("qwen2_vl").head_init() is None  # the head's own default init


def test_untrained_table_rows_build_any_registered_family_and_refuse_unknown_names(spatial_set):
    from zoo.reward.table import table

    rows = table(str(spatial_set / "pairs" / "val-*.tar"), untrained=["clip"], batch_size=20)
    assert rows["untrained tiny clip"]["n Overall"] == 40
    with pytest.raises(UsageError, match="'nope' is not a registered backbone.*clip"):
        table(str(spatial_set / "pairs" / "val-*.tar"), untrained=["nope"])


def test_scorer_json_with_an_unregistered_class_names_the_registered_ones(tmp_path):
    folder = export_scorer(RewardModel(untrained_backbone("clip")), tmp_path / "scorer")
    meta = json.loads((folder / "scorer.json").read_text())
    meta["backbone"]["class"] = "MysteryBackbone"
    (folder / "scorer.json").write_text(json.dumps(meta))
    with pytest.raises(SettingsError, match="backbone 'class' must be one of .*CLIPBackbone.*MysteryBackbone"):
        load(folder)


def test_register_backbone_refuses_a_non_backbone_and_get_backbone_class_an_unknown_name():
    with pytest.raises(TypeError, match="not a RewardBackbone"):
        register_backbone(nn.Linear)
    with pytest.raises(ValueError, match="unknown reward backbone 'Nope'; registered: .*QwenVLBackbone"):
        get_backbone_class("Nope")
    assert issubclass(get_backbone_class("QwenVLBackbone"), RewardBackbone)
