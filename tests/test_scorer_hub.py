"""A shareable scorer: peft-format LoRA adapter, old (zoo-scorer/1) folders, Hub ids through an offline cache,
save_pretrained, and `from zoo import Scorer`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from zoo.reward.model import RewardModel
from zoo.reward.parts import TrainableParts, apply_parts
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
from zoo.reward.scorer import Scorer, ScorerFolderError, export_scorer
from zoo.world import PairSpec, make_pair

TINY = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                  vision_layers=1, vision_heads=2)
PARTS = TrainableParts(mode="lora", lora_r=4, lora_alpha=8)


@pytest.fixture(scope="module")
def items():
    made = [make_pair(PairSpec(size=32), 0, "train", i) for i in range(4)]
    return [p["json"]["prompt"] for p in made], [Image.fromarray(p["chosen"]) for p in made]


@pytest.fixture(scope="module")
def base_checkpoint(tmp_path_factory):
    """A tiny Qwen2.5-VL saved like a hub checkpoint (weights, tokenizer, image processor in one folder)."""
    folder = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    backbone = QwenVLBackbone(tiny=TINY)
    for part in (backbone.model, backbone.inputs.tokenizer, backbone.inputs.image_processor):
        part.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def lora_scorer(base_checkpoint, tmp_path_factory):
    """A LoRA scorer over the base checkpoint, its adapters set away from zero so they change every output."""
    torch.manual_seed(1)
    backbone = QwenVLBackbone(pretrained=str(base_checkpoint), template="{image}{prompt}", min_pixels=32 * 32,
                              max_pixels=32 * 32)
    model = RewardModel(backbone)
    apply_parts(model, PARTS)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    folder = export_scorer(model.eval(), tmp_path_factory.mktemp("s") / "scorer", PARTS)
    return model, folder


def test_lora_adapter_is_saved_in_peft_format_and_peft_loads_it(lora_scorer, base_checkpoint):
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    model, folder = lora_scorer
    assert {p.name for p in (folder / "adapter").iterdir()} == {"adapter_config.json", "adapter_model.safetensors"}
    assert not (folder / "adapter.safetensors").exists() and json.loads((folder / "scorer.json").read_text()).get(
        "lora") is None
    ids = torch.tensor([[1, 5, 9, 13, 17, 21]])
    base = AutoModelForImageTextToText.from_pretrained(base_checkpoint).eval()
    with torch.no_grad():
        plain = base(input_ids=ids).logits
        peft_model = PeftModel.from_pretrained(base, str(folder / "adapter")).eval()
        adapted = peft_model(input_ids=ids).logits
        ours = model.backbone.model(input_ids=ids).logits
    assert not torch.allclose(plain, ours, atol=1e-3)  # the adapter changes the output: the check below can fail
    assert torch.allclose(adapted, ours, atol=1e-5)
    assert peft_model.peft_config["default"].r == PARTS.lora_r


def test_lora_scorer_loads_back_with_the_same_scores(lora_scorer, items):
    model, folder = lora_scorer
    prompts, images = items
    assert torch.allclose(model.score(prompts, images), torch.tensor(Scorer.from_pretrained(folder).score(
        prompts, images)), atol=1e-5)


def _old_layout(folder, out):
    """The zoo-scorer/1 layout of a LoRA scorer: adapter.safetensors (peft names, no PeftModel prefix), LoRA settings
    in scorer.json."""
    shutil.copytree(folder, out)
    tensors = load_file(out / "adapter" / "adapter_model.safetensors")
    save_file({k.removeprefix("base_model.model."): v for k, v in tensors.items()}, out / "adapter.safetensors")
    shutil.rmtree(out / "adapter")
    meta = json.loads((out / "scorer.json").read_text())
    meta.update(format="zoo-scorer/1", lora={"r": PARTS.lora_r, "alpha": PARTS.lora_alpha, "targets": None})
    (out / "scorer.json").write_text(json.dumps(meta))
    return out


def test_old_layout_loads_and_save_pretrained_converts_it(lora_scorer, items, tmp_path):
    model, folder = lora_scorer
    prompts, images = items
    old = _old_layout(folder, tmp_path / "old")
    expected = model.score(prompts, images)
    scorer = Scorer.from_pretrained(old)
    assert torch.allclose(expected, torch.tensor(scorer.score(prompts, images)), atol=1e-5)
    new = scorer.save_pretrained(tmp_path / "new")
    assert (new / "adapter" / "adapter_config.json").exists() and not (new / "adapter.safetensors").exists()
    assert json.loads((new / "scorer.json").read_text())["format"] == "zoo-scorer/2"
    assert torch.allclose(expected, torch.tensor(Scorer.from_pretrained(new).score(prompts, images)), atol=1e-5)
    (old / "adapter.safetensors").unlink()
    with pytest.raises(ScorerFolderError, match="lacks 'adapter.safetensors'"):
        Scorer.from_pretrained(old)


def test_adapter_with_an_unsupported_lora_variant_or_missing_tensors_fails_naming_it(lora_scorer, tmp_path):
    from zoo.settings import SettingsError

    folder = shutil.copytree(lora_scorer[1], tmp_path / "s")
    path = folder / "adapter" / "adapter_config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(SettingsError, match="'use_dora'"):
        Scorer.from_pretrained(folder)
    path.write_text(json.dumps({**config, "run_this": "x"}))
    with pytest.raises(SettingsError, match="unknown key 'run_this'"):
        Scorer.from_pretrained(folder)
    path.write_text(json.dumps(config))
    weights = folder / "adapter" / "adapter_model.safetensors"
    tensors = load_file(weights)
    save_file(dict(list(tensors.items())[1:]), weights)
    with pytest.raises(ValueError, match="adapter does not fit its LoRA settings"):
        Scorer.from_pretrained(folder)
    weights.unlink()
    with pytest.raises(ScorerFolderError, match="adapter/adapter_model.safetensors"):
        Scorer.from_pretrained(folder)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache under a tmp HF_HOME, with the Hub switched off."""
    from huggingface_hub import constants

    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_id_resolves_from_the_offline_cache(offline_hub, items, tmp_path):
    prompts, images = items
    torch.manual_seed(2)
    model = RewardModel(QwenVLBackbone(tiny=TINY)).eval()
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = offline_hub / "models--someone--tiny-scorer"
    Scorer.from_pretrained(export_scorer(model, tmp_path / "scorer")).save_pretrained(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    scorer = Scorer.from_pretrained("someone/tiny-scorer")
    assert scorer.folder == repo / "snapshots" / commit
    assert torch.allclose(model.score(prompts, images), torch.tensor(scorer.score(prompts, images)), atol=1e-5)
    assert json.loads((scorer.folder / "scorer.json").read_text())["backbone"]["pretrained"] is None
    with pytest.raises(ScorerFolderError, match="someone/absent.*not in the Hugging Face cache"):
        Scorer.from_pretrained("someone/absent")
    with pytest.raises(ScorerFolderError, match="scorer folder not found: runs/none/scorer"):
        Scorer.from_pretrained("runs/none/scorer")


def test_import_zoo_exposes_the_scorer_and_stays_light():
    import zoo

    code = "import sys, zoo; print(sorted(m for m in ('torch', 'transformers', 'lightning') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
    from zoo import Scorer as Top

    assert Top is Scorer and "Scorer" in zoo.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        getattr(zoo, "Nothing")  # noqa: B009 - the module's __getattr__ is what is tested
