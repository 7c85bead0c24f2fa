"""Every shipped experiment YAML parses through the `zoo` CLI; the tiny ones also build their classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.cli import ZooCLI, main

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p for group in ("reward", "pretrain", "sft", "grpo", "nft")
                     for p in (ROOT / "configs" / group).glob("*.yaml"))
RL_GROUPS = ("grpo", "nft")


@pytest.mark.parametrize("config", EXPERIMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_experiment_config_parses_through_the_cli(config, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "-c", str(config), "--print_config"])
    assert exit_.value.code == 0
    assert "class_path" in capsys.readouterr().out


@pytest.fixture(scope="module")
def tiny_scorer(tmp_path_factory) -> Path:
    """An untrained tiny SpatialScore scorer folder (what the tiny GRPO configs read)."""
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone
    from zoo.reward.scorer import export_scorer

    return export_scorer(RewardModel(QwenVLBackbone(), "linear"), tmp_path_factory.mktemp("scorer") / "scorer")


@pytest.fixture(scope="module")
def layout_t5(tmp_path_factory) -> Path:
    """An untrained export of configs/pretrain/tiny_t5_layout.yaml (what the SFT config's `tiny.t5_from` reads)."""
    import yaml

    from modules.text_layout import TextLayoutModule

    config = yaml.safe_load((ROOT / "configs" / "pretrain" / "tiny_t5_layout.yaml").read_text())
    module = TextLayoutModule(**{k: v for k, v in config["model"]["init_args"].items() if k != "export_dir"})
    return module.export(tmp_path_factory.mktemp("t5") / "t5")


def tiny_policy(config: Path) -> dict:
    """The `tiny` block of a config's policy ({} when it has none)."""
    import yaml

    policy = yaml.safe_load(config.read_text())["model"]["init_args"].get("policy") or {}
    return (policy.get("init_args") or {}).get("tiny") or {}


@pytest.mark.parametrize("config", [p for p in EXPERIMENTS if p.name.startswith("tiny_")],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tiny_config_builds_its_model_and_data(config, tiny_scorer, layout_t5):
    group = config.parent.name
    no_init = ["--model.init_args.init_from", "null"] if group in ("reward", *RL_GROUPS) else []
    if "spatialscore" in config.name:
        no_init += ["--model.init_args.reward.init_args.folder", str(tiny_scorer)]
    if tiny_policy(config).get("t5_from"):
        no_init += ["--model.init_args.policy.init_args.tiny.t5_from", str(layout_t5)]
    cli = ZooCLI(args=["-c", str(config), *no_init, "--trainer.logger", "false"], run=False)
    trainable = sum(p.numel() for p in cli.model.parameters() if p.requires_grad)
    data = "PromptDataModule" if group in RL_GROUPS else "PreferencePairDataModule"
    assert trainable > 50_000 and type(cli.datamodule).__name__ == data, trainable
    assert cli.model.hparams.export_dir.startswith("runs/")


# a policy export carries these parts (text_encoders/, vae/): a config that starts from the export need not name them
EXPORTED_SOURCES = ("t5_from", "clip_from", "vae_from")


def test_tiny_flux_configs_build_the_one_policy_the_sft_exports():
    """A policy export holds weights, not the tiny sizes and options (prediction, text mask): every tiny Flux config
    that starts from the SFT policy must build the policy the SFT trained, or it would load its weights silently
    (sampling settings may differ, the CFG scale is checked below; the pretrained parts' sources may differ: the export
    carries those parts)."""
    import yaml

    policies = {}
    for config in EXPERIMENTS:
        policy = yaml.safe_load(config.read_text())["model"]["init_args"].get("policy") or {}
        if config.name.startswith("tiny_") and policy.get("class_path", "").endswith("FluxPolicy"):
            tiny = policy["init_args"]["tiny"]
            policies[f"{config.parent.name}/{config.name}"] = {k: v for k, v in tiny.items() if k not in EXPORTED_SOURCES}
    assert len(policies) >= 7 and "sft/tiny_flux.yaml" in policies
    different = {name: p for name, p in policies.items() if p != policies["sft/tiny_flux.yaml"]}
    assert not different, different


def test_tiny_rl_configs_sample_as_the_sft_policy_is_judged():
    """Every tiny Flux RL config samples with the SFT config's true CFG scale (none: as Flux.1-dev), so the report's
    SFT -> RL deltas compare one sampler, and GRPO rollouts are the SFT's own images."""
    import yaml

    def flux_policy(config: Path) -> dict:
        policy = yaml.safe_load(config.read_text())["model"]["init_args"].get("policy") or {}
        return policy["init_args"] if policy.get("class_path", "").endswith("FluxPolicy") else {}

    sft = flux_policy(ROOT / "configs" / "sft" / "tiny_flux.yaml").get("true_cfg_scale", 1.0)
    rl = {f"{c.parent.name}/{c.name}": p.get("true_cfg_scale", 1.0) for c in EXPERIMENTS
          if c.parent.name in RL_GROUPS and c.name.startswith("tiny_") and (p := flux_policy(c))}
    assert sft == 1.0 and len(rl) >= 6
    assert {name: scale for name, scale in rl.items() if scale != sft} == {}


def test_the_t5_layout_pretraining_trains_the_encoder_the_sft_policy_reads():
    """configs/pretrain/tiny_t5_layout.yaml builds its encoder from the SFT policy's own tiny block and exports it
    where the SFT config's `tiny.t5_from` reads it."""
    import yaml

    sft = tiny_policy(ROOT / "configs" / "sft" / "tiny_flux.yaml")
    pretrain = yaml.safe_load((ROOT / "configs" / "pretrain" / "tiny_t5_layout.yaml").read_text())["model"]["init_args"]
    assert pretrain["tiny"] == {k: v for k, v in sft.items() if k != "t5_from"}
    assert sft["t5_from"] == pretrain["export_dir"]
