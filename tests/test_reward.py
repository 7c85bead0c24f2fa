"""SpatialScore parts: losses, metric, backbones, LoRA/frozen parts, scorer folders and bad input."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from zoo.reward.clip import CLIPBackbone, TinyCLIP
from zoo.reward.losses import BradleyTerry, BradleyTerryTies, UncertaintyLoss
from zoo.reward.metrics import PairwiseAccuracy
from zoo.reward.model import RewardModel
from zoo.reward.parts import TrainableParts, apply_parts, vision_tower
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL, add_coordinate_planes
from zoo.reward.scorer import ScorerFolderError, export_scorer, load
from zoo.reward.score_files import score as score_files
from zoo.world import PairSpec, make_pair

TINY = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                  vision_layers=1, vision_heads=2)


@pytest.fixture(scope="module")
def pairs():
    made = [make_pair(PairSpec(size=32), 0, "train", i) for i in range(6)]
    return ([p["json"]["prompt"] for p in made], [Image.fromarray(p["chosen"]) for p in made],
            [Image.fromarray(p["rejected"]) for p in made])


def test_bradley_terry_and_ties_match_their_formulas():
    c, r = torch.tensor([[2.0], [0.5]]), torch.tensor([[1.0], [1.5]])
    expected = (-math.log(1 / (1 + math.exp(-1.0))) - math.log(1 / (1 + math.exp(1.0)))) / 2
    assert BradleyTerry()(c, r).item() == pytest.approx(expected, rel=1e-6)
    k = 5.0
    ties = BradleyTerryTies(k)
    d = 1.0
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    untied = -math.log(sig(d - math.log(k)))
    tied = untied - math.log(sig(-d - math.log(k))) - math.log(k * k - 1)
    out = ties(torch.tensor([[2.0], [2.0]]), torch.tensor([[1.0], [1.0]]), torch.tensor([False, True]))
    assert out.item() == pytest.approx((untied + tied) / 2, rel=1e-6)


def test_uncertainty_probit_agrees_with_monte_carlo_and_ignores_sigma_at_zero_variance():
    torch.manual_seed(0)
    chosen = torch.tensor([[1.0, math.log(0.8)], [0.2, math.log(1.5)]])
    rejected = torch.tensor([[0.0, math.log(0.5)], [0.4, math.log(0.3)]])
    probit = UncertaintyLoss("probit")(chosen, rejected)
    mc = UncertaintyLoss("mc", samples=200_000)(chosen, rejected)
    assert probit.item() == pytest.approx(mc.item(), abs=0.02)
    tiny_sigma = torch.tensor([[1.0, -20.0]]), torch.tensor([[0.0, -20.0]])
    assert UncertaintyLoss()(*tiny_sigma).item() == pytest.approx(BradleyTerry()(*tiny_sigma).item(), rel=1e-5)
    with pytest.raises(ValueError, match="2 outputs"):
        UncertaintyLoss()(torch.zeros(2, 1), torch.zeros(2, 1))


def test_pairwise_accuracy_splits_by_perturbation_bucket():
    metric = PairwiseAccuracy()
    metric.update(torch.tensor([1.0, 0.0, 2.0, 3.0]), torch.tensor([0.0, 1.0, 1.0, 4.0]), torch.tensor([1, 1, 2, 3]))
    out = metric.compute()
    assert out["1 Pert."] == 0.5 and out["2-3 Pert."] == 0.5 and out["Overall"] == 0.5
    metric.update(torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([3]))
    assert metric.compute()["2-3 Pert."] == pytest.approx(2 / 3)


def test_coordinate_planes_follow_the_processor_patch_order():
    grid = torch.tensor([[1, 4, 4]])
    pixels = torch.zeros(16, 3 * 2 * 2 * 2)
    out = add_coordinate_planes(pixels, grid, patch=2, merge=2, temporal=2).view(16, 5, 2, 2, 2)
    # processor order: merge blocks (row-major), then 2x2 inside; patch 5 = block (0,1), top-left -> col 2
    xs, ys = out[:, 3, 0].mean((1, 2)), out[:, 4, 0].mean((1, 2))
    cols = torch.tensor([0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3]).float()
    rows = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]).float()
    assert torch.allclose(xs, (cols * 2 + 1) / 8 * 2 - 1) and torch.allclose(ys, (rows * 2 + 1) / 8 * 2 - 1)


@pytest.mark.parametrize("make", [
    lambda: QwenVLBackbone(family="qwen2_5_vl", tiny=TINY),
    lambda: QwenVLBackbone(family="qwen2_vl", tiny=TINY, pooling="mean"),
    lambda: QwenVLBackbone(family="qwen3_vl", tiny=TINY, pooling="last"),
    lambda: CLIPBackbone(tiny=TinyCLIP(image_size=32, hidden_size=32, layers=1, heads=2, vision_hidden_size=32,
                                       vision_layers=1, projection_dim=16)),
])
def test_scorer_folder_round_trip_gives_the_same_scores(make, pairs, tmp_path):
    prompts, chosen, _ = pairs
    model = RewardModel(make(), head="mlp").eval()
    before = model.score(prompts, chosen)
    export_scorer(model, tmp_path / "scorer")
    scorer = load(tmp_path / "scorer")
    after = torch.tensor(scorer.score(prompts, chosen, batch_size=4))
    assert torch.allclose(before, after, atol=1e-5)
    assert json.loads((tmp_path / "scorer" / "scorer.json").read_text())["head"] == "mlp"


def test_scores_depend_on_the_image_and_on_the_prompt(pairs):
    prompts, chosen, rejected = pairs
    model = RewardModel(QwenVLBackbone(tiny=TINY)).eval()
    a, b = model.score(prompts, chosen), model.score(prompts, rejected)
    c = model.score(prompts[1:] + prompts[:1], chosen)
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


def _train_steps(model: RewardModel, pairs, steps: int = 3) -> None:
    prompts, chosen, rejected = pairs
    batch = model.inputs(prompts + prompts, chosen + rejected)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.0)
    for _ in range(steps):
        out = model(batch)
        loss = BradleyTerry()(out[: len(prompts)], out[len(prompts):])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_lora_changes_only_adapters_head_and_reward_token(pairs):
    model = RewardModel(QwenVLBackbone(tiny=TINY))
    apply_parts(model, TrainableParts(mode="lora", lora_r=4, lora_alpha=8))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    _train_steps(model, pairs)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert all("lora_" in k or k.startswith("head.") or k == "backbone.reward_token.weight" for k in changed), changed
    assert any("lora_" in k for k in changed) and any(k.startswith("head.") for k in changed)
    assert "backbone.reward_token.weight" in changed


def test_frozen_vision_tower_is_bit_identical_and_trained_vision_changes(pairs):
    for train_vision in (False, True):
        model = RewardModel(QwenVLBackbone(tiny=TINY))
        apply_parts(model, TrainableParts(mode="lora", lora_r=4, train_vision=train_vision))
        tower = vision_tower(model.backbone)
        before = [p.detach().clone() for p in tower.parameters()]
        _train_steps(model, pairs)
        same = all(torch.equal(a, b) for a, b in zip(before, tower.parameters()))
        assert same is (not train_vision)


def test_prompts_empty_or_too_long(pairs, caplog):
    _, chosen, _ = pairs
    backbone = QwenVLBackbone(tiny=TINY, max_prompt_tokens=5)
    with pytest.raises(ValueError, match="empty"):
        backbone.inputs(["  "], chosen[:1])
    with caplog.at_level("WARNING"):
        batch = backbone.inputs(["a red circle to the left of a blue square"], chosen[:1])
    assert backbone.inputs.truncated == 1 and "truncated" in caplog.text
    text_tokens = int((batch["mm_token_type_ids"] == 0).sum())
    assert text_tokens == 2 + 5 + 1  # vision start/end, 5 prompt tokens, reward token


def test_scorer_folder_with_a_missing_file_names_it(pairs, tmp_path):
    model = RewardModel(QwenVLBackbone(tiny=TINY))
    export_scorer(model, tmp_path / "scorer")
    (tmp_path / "scorer" / "reward_token.safetensors").unlink()
    with pytest.raises(ScorerFolderError, match="reward_token.safetensors"):
        load(tmp_path / "scorer")
    (tmp_path / "scorer" / "head.safetensors").unlink()
    with pytest.raises(ScorerFolderError, match="head.safetensors"):
        load(tmp_path / "scorer")
    shutil.rmtree(tmp_path / "scorer" / "model")
    (tmp_path / "scorer" / "head.safetensors").write_bytes(b"")
    with pytest.raises(ScorerFolderError, match="'model'"):
        load(tmp_path / "scorer")


def test_zoo_score_reports_bad_images_and_resumes(pairs, tmp_path):
    prompts, chosen, _ = pairs
    export_scorer(RewardModel(QwenVLBackbone(tiny=TINY)), tmp_path / "scorer")
    lines = []
    for i, (p, im) in enumerate(zip(prompts[:3], chosen[:3])):
        im.save(tmp_path / f"{i}.png")
        lines.append({"id": f"s{i}", "prompt": p, "image": f"{i}.png"})
    (tmp_path / "bad.png").write_bytes(b"not an image")
    lines += [{"id": "bad", "prompt": prompts[0], "image": "bad.png"}, {"id": "empty", "prompt": "", "image": "0.png"}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(x) for x in lines[:2]) + "\n")
    first = score_files(tmp_path / "in.jsonl", scorer=tmp_path / "scorer", out=tmp_path / "out.jsonl", batch_size=2)
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    second = score_files(tmp_path / "in.jsonl", scorer=tmp_path / "scorer", out=tmp_path / "out.jsonl", batch_size=2)
    assert first["scored"] == 2 and second["skipped_done"] == 2 and second["scored"] == 1 and second["errors"] == 2
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert set(rows) == {"s0", "s1", "s2", "bad", "empty"}
    assert "cannot read image" in rows["bad"]["error"] and "empty prompt" in rows["empty"]["error"]
    assert all(isinstance(rows[k]["score"], float) for k in ("s0", "s1", "s2"))


@pytest.fixture(scope="module")
def local_checkpoint(tmp_path_factory):
    """A tiny Qwen2.5-VL saved like a hub checkpoint (weights, tokenizer, image processor in one folder)."""
    folder = tmp_path_factory.mktemp("ckpt")
    backbone = QwenVLBackbone(tiny=TINY)
    backbone.model.save_pretrained(folder)
    backbone.inputs.tokenizer.save_pretrained(folder)
    backbone.inputs.image_processor.save_pretrained(folder)
    return folder


def test_lora_on_a_local_checkpoint_exports_an_adapter_that_loads_back(local_checkpoint, pairs, tmp_path):
    prompts, chosen, _ = pairs
    backbone = QwenVLBackbone(pretrained=str(local_checkpoint), template="{image}{prompt}", min_pixels=32 * 32,
                              max_pixels=32 * 32)
    model = RewardModel(backbone)
    parts = TrainableParts(mode="lora", lora_r=4, lora_alpha=8)
    apply_parts(model, parts)
    _train_steps(model, pairs)
    model.eval()
    before = model.score(prompts, chosen)
    export_scorer(model, tmp_path / "scorer", parts)
    files = {p.name for p in (tmp_path / "scorer").iterdir()}
    assert "adapter" in files and "model" not in files
    after = torch.tensor(load(tmp_path / "scorer").score(prompts, chosen))
    assert torch.allclose(before, after, atol=1e-5)


def test_reward_table_rows_match_a_direct_evaluation(spatial_set, tmp_path, capsys):
    from zoo.data.records import decode_pair
    from zoo.data.stream import ShardStream
    from zoo.data.urls import expand_urls
    from zoo.reward.table import table

    torch.manual_seed(1)
    model = RewardModel(QwenVLBackbone(tiny=TinyQwenVL(image_size=48, hidden_size=32, layers=1))).eval()
    export_scorer(model, tmp_path / "scorer")
    rows = table(str(spatial_set / "pairs" / "val-*.tar"), scorers=[f"mine={tmp_path / 'scorer'}"],
                 batch_size=16, out=tmp_path / "t.json")
    pairs = list(ShardStream(expand_urls(str(spatial_set / "pairs" / "val-*.tar")), decode_pair, train=False))
    right = {1: [], 2: []}
    for p in pairs:
        s = model.score([p["prompt"]] * 2, [p["chosen"], p["rejected"]])
        right[min(p["n_perturbations"], 2)].append(bool(s[0] > s[1]))
    assert rows["mine"]["1 Pert."] == pytest.approx(np.mean(right[1]))
    assert rows["mine"]["2-3 Pert."] == pytest.approx(np.mean(right[2]))
    assert rows["mine"]["n Overall"] == len(pairs) == 40
    assert "| mine |" in capsys.readouterr().out and (tmp_path / "t.md").exists()


def test_table_cells_carry_the_wilson_interval_of_their_pair_count():
    import math

    from zoo.reward.metrics import format_table, wilson_interval

    low, high = wilson_interval(0.974, 1000)
    p, n, z = 0.974, 1000, 1.96  # the formula, written out
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (low, high) == pytest.approx((centre - half, centre + half)) and low < 0.974 < high
    assert wilson_interval(1.0, 10)[1] == 1.0 and wilson_interval(0.0, 10)[0] == 0.0 < wilson_interval(0.0, 10)[1]
    table = format_table({"m": {"1 Pert.": 0.5, "2-3 Pert.": 1.0, "Overall": 0.75, "n 1 Pert.": 2, "n 2-3 Pert.": 2,
                                "n Overall": 4}})
    assert "| m | 0.500 [0.095, 0.905] |" in table and "Pairs per bucket: 1 Pert. 2, 2-3 Pert. 2, Overall 4" in table
