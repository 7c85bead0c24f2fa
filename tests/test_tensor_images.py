"""Qwen-VL preprocessing on tensors: equal to the image processor without a resize, within a grey level with one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers
from PIL import Image

from zoo.reward.clip import CLIPBackbone, TinyCLIP
from zoo.reward.model import RewardModel
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
from zoo.reward.scorer import export_scorer
from zoo.reward.tensor_images import qwen_pixels
from zoo.rl.rewards import SpatialScoreReward

PROCESSOR = transformers.Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=448 * 448, patch_size=14,
                                                  temporal_patch_size=2, merge_size=2)
GREY_LEVEL = 1 / 255 / min(PROCESSOR.image_std)  # one 8-bit step after normalisation


def _images(side: int, n: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(side)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(n, 3, side, side, generator=gen), 5, 1, 2)
    return (smooth * 255).round() / 255  # 8-bit levels, as policy images become when saved


def _reference(images: torch.Tensor) -> dict[str, torch.Tensor]:
    pil = [Image.fromarray((im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)) for im in images]
    return PROCESSOR(images=pil, return_tensors="pt")


@pytest.mark.parametrize("side", [56, 448])
def test_without_a_resize_the_tensor_path_equals_the_image_processor(side):
    images = _images(side)
    pixels, grid = qwen_pixels(images, PROCESSOR)
    ref = _reference(images)
    assert torch.equal(grid, ref["image_grid_thw"])
    assert torch.allclose(pixels, ref["pixel_values"], atol=1e-5)


@pytest.mark.parametrize("side", [64, 512])
def test_with_a_resize_it_differs_by_at_most_one_grey_level(side):
    images = _images(side)
    pixels, grid = qwen_pixels(images, PROCESSOR)
    ref = _reference(images)
    assert torch.equal(grid, ref["image_grid_thw"]) and pixels.shape == ref["pixel_values"].shape
    diff = (pixels - ref["pixel_values"]).abs()
    assert diff.max() <= GREY_LEVEL * 1.01 and diff.mean() < 0.25 * GREY_LEVEL


def test_spatialscore_reward_scores_tensors_as_it_scores_pil_images(tmp_path):
    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    torch.manual_seed(0)
    export_scorer(RewardModel(QwenVLBackbone(tiny=tiny)).eval(), tmp_path / "scorer")
    images = _images(40, n=6)  # resized to 32 x 32 by the tiny processor
    prompts = [f"a red circle to the left of a blue square {i}" for i in range(6)]
    pil = SpatialScoreReward(str(tmp_path / "scorer"), batch_size=4)(prompts, images, [{}] * 6)
    tensor = SpatialScoreReward(str(tmp_path / "scorer"), batch_size=4, preprocess="tensor")(prompts, images, [{}] * 6)
    assert pil.shape == tensor.shape == (6,)
    assert torch.allclose(pil, tensor, atol=0.05 * pil.std().item() + 1e-4)
    assert not torch.allclose(tensor, tensor.mean().expand(6))  # the scores still tell the images apart


def test_tensor_preprocessing_refuses_a_scorer_that_is_not_qwen_vl(tmp_path):
    clip = CLIPBackbone(tiny=TinyCLIP(image_size=32, hidden_size=32, layers=1, heads=2, vision_hidden_size=32,
                                      vision_layers=1, projection_dim=16))
    export_scorer(RewardModel(clip).eval(), tmp_path / "clip")
    with pytest.raises(ValueError, match="needs a scorer whose backbone takes tensor images"):
        SpatialScoreReward(str(tmp_path / "clip"), preprocess="tensor")
    with pytest.raises(ValueError, match="'pil' or 'tensor'"):
        SpatialScoreReward(str(tmp_path / "clip"), preprocess="gpu")


def test_preprocess_benchmark_writes_both_paths(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import reward_preprocess

    result = reward_preprocess.main(["--images", "2", "--side", "64", "--iters", "1", "--out", str(tmp_path / "p.json")])
    paths = [r["path"] for r in result["rows"]]
    assert paths[:2] == ["pil (to_pil + processor)", "tensor (qwen_pixels)"]
    assert all(r["seconds"] > 0 and r["images_per_s"] > 0 for r in result["rows"])
    assert (tmp_path / "p.json").is_file()
