"""The real-size configs of the RL algorithms build their models on the meta device (random weights, no download):
DiffusionNFT on Flux.1-dev and SD3.5-Medium, Flow-GRPO-Fast on Flux.1-dev, Flow-GRPO on Qwen-Image; the paper configs keep
Flow-GRPO's KL."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from zoo.cli import ZooCLI

ROOT = Path(__file__).resolve().parents[1]
# config, the policy's random real-size architecture, base parameters, image tokens, algorithm settings
REAL = {
    "nft/flux_dev_spatialscore_fsdp2.yaml": ("flux_dev", 11_901_408_320, 1024, {"nft_beta": 1.0, "noise_level": 0.0}),
    "nft/sd3_5_medium_spatialscore_fsdp2.yaml": ("sd3_5_medium", 2_243_171_520, 1024,
                                                 {"nft_beta": 1.0, "kl_weight": 1e-4, "noise_level": 0.0}),
    "grpo/flux_dev_fast_spatialscore_fsdp2.yaml": ("flux_dev", 11_901_408_320, 1024,
                                                   {"sde_branch": 2, "kl": "flow_grpo", "untrained_steps": "ode"}),
    "grpo/qwen_image_spatialscore_fsdp2.yaml": ("qwen_image", 20_430_401_088, 1024, {"beta": 0.04, "kl": "flow_grpo"}),
}


@pytest.fixture(scope="module")
def scorer(tmp_path_factory) -> Path:
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    return export_scorer(RewardModel(QwenVLBackbone(tiny=tiny), "linear"), tmp_path_factory.mktemp("s") / "scorer")


@pytest.mark.parametrize("config", sorted(REAL))
def test_real_size_rl_config_builds_on_meta(config, scorer, tmp_path):
    architecture, base_params, tokens, settings = REAL[config]
    random = {"pretrained": None, "architecture": architecture, "init_device": "meta"}
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump({"model": {"init_args": {"policy": {"init_args": random}}}}))
    cli = ZooCLI(args=["-c", str(ROOT / "configs" / config), "-c", str(tmp_path / "overlay.yaml"),
                       "--model.init_args.reward.init_args.folder", str(scorer), "--trainer.logger", "false",
                       "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.strategy", "auto"],
                 run=False)
    transformer, hp = cli.model.policy.transformer, cli.model.hparams
    base = [p for n, p in transformer.named_parameters() if "lora_" not in n]
    lora = [p for n, p in transformer.named_parameters() if "lora_" in n]
    assert all(p.is_meta for p in transformer.parameters()) and sum(p.numel() for p in base) == base_params
    assert {p.dtype for p in base} == {torch.bfloat16} and lora and {p.dtype for p in lora} == {torch.float32}
    assert all(p.requires_grad for p in lora) and not any(p.requires_grad for p in base)
    assert cli.model.policy.image_seq_len == tokens and hp.activation_checkpointing and hp.param_dtype == "bfloat16"
    assert {k: hp[k] for k in settings} == settings


@pytest.mark.parametrize("config", ["grpo/flux_dev_spatialscore_fsdp2.yaml",
                                    "grpo/sd3_5_medium_spatialscore_fsdp2.yaml",
                                    "grpo/qwen_image_spatialscore_fsdp2.yaml"])
def test_flow_grpo_paper_configs_use_flow_grpos_conventions(config):
    args = yaml.safe_load((ROOT / "configs" / config).read_text())["model"]["init_args"]
    assert args["beta"] == 0.04 and args["kl"] == "flow_grpo" and args["first_std"] == "flow_grpo"
    assert args["untrained_steps"] == "sde" and args["zero_advantage"] == "drop"
