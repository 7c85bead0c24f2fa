"""InternVL as a reward backbone family: a tiny reward fit on the embedded world exports a scorer that loads back,
LoRA trains adapters only, an old-layout checkpoint fills a meta-built backbone through its renames, and the
real-size config builds InternVL3-8B on the meta device (FSDP2 on two processes: tests/test_distributed.py)."""

from __future__ import annotations

import lightning as L
import torch
from PIL import Image
from safetensors.torch import save_file

from datamodules import PreferencePairDataModule
from modules.reward import RewardModule
from zoo.reward.internvl import InternVLBackbone, TinyInternVL
from zoo.reward.model import RewardModel
from zoo.reward.parts import TrainableParts, apply_parts
from zoo.reward.scorer import load
from zoo.world import PairSpec, make_pair

TINY = TinyInternVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                    vision_layers=1, vision_heads=2)


def _pairs(n: int = 4):
    made = [make_pair(PairSpec(size=32), 0, "train", i) for i in range(n)]
    return ([p["json"]["prompt"] for p in made], [Image.fromarray(p["chosen"]) for p in made],
            [Image.fromarray(p["rejected"]) for p in made])


def test_tiny_internvl_reward_fit_exports_a_scorer_that_scores_like_the_module(spatial_set, tmp_path):
    torch.manual_seed(0)
    module = RewardModule(InternVLBackbone(tiny=TINY, pooling="mean"), lr=1e-3, parts=TrainableParts(mode="full"),
                          export_dir=str(tmp_path / "scorer"))
    before = {k: v.detach().clone() for k, v in module.model.state_dict().items()}
    data = PreferencePairDataModule(train=str(spatial_set / "pairs" / "train-*.tar"),
                                    val=str(spatial_set / "pairs" / "val-*.tar"), batch_size=4, eval_batch_size=8,
                                    num_workers=0, train_samples_per_epoch=16, shuffle_buffer=4, seed=5)
    trainer = L.Trainer(max_steps=4, val_check_interval=2, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, limit_val_batches=1,
                        default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    assert trainer.global_step == 4 and "val/acc_overall" in trainer.callback_metrics
    changed = [k for k, v in module.model.state_dict().items() if not torch.equal(v, before[k])]
    assert any(".language_model." in k for k in changed) and any(".vision_tower." in k for k in changed)
    scorer = load(tmp_path / "scorer")
    assert scorer.meta["backbone"]["class"] == "InternVLBackbone" and scorer.meta["weights"] == "full"
    prompts, chosen, _ = _pairs()
    expected = module.model.eval().score(prompts, chosen)
    assert torch.allclose(torch.tensor(scorer.score(prompts, chosen)), expected, atol=1e-5)


def test_lora_on_internvl_trains_adapters_head_and_reward_token_only():
    torch.manual_seed(0)
    model = RewardModel(InternVLBackbone(tiny=TINY))
    apply_parts(model, TrainableParts(mode="lora", lora_r=4, lora_alpha=8))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(".language_model." in n and "lora_" in n for n in trainable)
    assert all("lora_" in n or n.startswith("head.") or n == "backbone.reward_token.weight" for n in trainable)
    assert "backbone.reward_token.weight" in trainable and not any(".vision_tower." in n for n in trainable)


def test_an_old_layout_checkpoint_fills_a_meta_built_backbone_through_its_renames(tmp_path):
    torch.manual_seed(0)
    whole = InternVLBackbone(tiny=TINY)  # pooling "special": the reward token's row comes from the checkpoint too
    old = {}
    for name, tensor in whole.model.state_dict().items():  # the layout InternVL-hf checkpoints were saved in
        name = name.replace("model.language_model.", "language_model.model.").replace("lm_head.", "language_model.lm_head.")
        old[name.replace("model.vision_tower.", "vision_tower.")
            .replace("model.multi_modal_projector.", "multi_modal_projector.")] = tensor.contiguous()
    assert any(k.startswith("language_model.model.") for k in old) and not any(k.startswith("model.") for k in old)
    (tmp_path / "model").mkdir()
    save_file(old, tmp_path / "model" / "model.safetensors")
    meta = InternVLBackbone(tiny=TINY, init_device="meta")
    assert all(p.is_meta for p in meta.model.parameters())
    meta.start_from(tmp_path)
    meta.materialize("cpu")
    prompts, chosen, _ = _pairs(2)
    batch = whole.inputs(prompts, chosen)
    with torch.no_grad():
        assert torch.equal(meta(batch), whole(batch))


def test_the_internvl3_8b_config_builds_on_meta_with_fp32_lora(tmp_path):
    import yaml

    from zoo.cli import ZooCLI

    overlay = {"model": {"init_args": {"backbone": {"init_args": {"pretrained": None, "architecture": "internvl3_8b"}}}}}
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    cli = ZooCLI(args=["-c", "configs/reward/internvl3_8b_lora_fsdp2.yaml", "-c", str(tmp_path / "overlay.yaml"),
                       "--trainer.logger", "false", "--trainer.accelerator", "cpu", "--trainer.devices", "1",
                       "--trainer.strategy", "auto"], run=False)
    model, hp = cli.model.model, cli.model.hparams
    assert hp.activation_checkpointing and hp.param_dtype == "bfloat16" and cli.trainer.precision == "32-true"
    base = {n: p for n, p in model.backbone.model.named_parameters() if "lora_" not in n}
    assert all(p.is_meta for p in base.values()) and {p.dtype for p in base.values()} == {torch.bfloat16}
    assert 7.9e9 < sum(p.numel() for p in base.values()) < 8.0e9  # InternVL3-8B: 7.94 B (LM head included)
    config = model.backbone.model.config
    assert (config.text_config.hidden_size, config.text_config.num_hidden_layers, config.vision_config.hidden_size,
            config.image_seq_length) == (3584, 28, 1024, 256)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and {p.dtype for p in trainable} == {torch.float32}  # LoRA r64, head, reward token

