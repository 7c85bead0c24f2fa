"""Qwen-Image as a policy family (zoo/policy/qwen_image.py): tiny from a config with an offline text encoder, GRPO on
the embedded world, LoRA readable by diffusers' own pipeline, the real transformer on the meta device."""

from __future__ import annotations

import re

import torch
from diffusers import AutoencoderKLQwenImage, QwenImagePipeline

from datamodules.prompts import PromptDataModule
from modules import GRPOModule
from tests.test_grpo import Brightness, _trainer
from zoo.policy.base import LoraSpec
from zoo.policy.qwen_image import QwenImagePolicy, QwenLatents, TinyQwenImage

TINY = TinyQwenImage(image_size=16, pixel_factor=2, layers=1, heads=2, head_dim=16, text_dim=32,
                     max_sequence_length=40)
PROMPTS = ["a red circle to the left of a blue square", "a green triangle"]


def _policy(lora: LoraSpec | None = None, cfg: float = 1.0) -> QwenImagePolicy:
    torch.manual_seed(0)
    return QwenImagePolicy(tiny=TINY, true_cfg_scale=cfg, lora=lora)


def _data(spatial_set, batch_size=8, group_size=4):
    return PromptDataModule(train=str(spatial_set / "prompts" / "train-*.tar"),
                            val=str(spatial_set / "prompts" / "val-*.tar"), batch_size=batch_size,
                            group_size=group_size, steps_per_epoch=50, eval_batch_size=8, seed=1)


def test_text_is_padded_masked_and_cached_without_a_pooled_vector():
    policy = _policy()
    text = policy.encode_text(PROMPTS)
    assert text.pooled is None and text.prompt_embeds.shape[:2] == text.mask.shape == (2, TINY.max_sequence_length)
    lengths = text.mask.sum(1)
    assert lengths[0] > lengths[1] > 0 and not text.prompt_embeds[1, lengths[1]:].any()  # padding zeroed
    fresh = policy._encode_prompts(PROMPTS)
    assert torch.equal(fresh.prompt_embeds, text.prompt_embeds) and torch.equal(fresh.mask, text.mask)
    mixed = text.where(torch.tensor([True, False]), policy.unconditional(2))
    assert torch.equal(mixed.mask[0], policy.unconditional(1).mask[0]) and torch.equal(mixed.mask[1], text.mask[1])


def test_generation_is_seeded_per_sample_and_guidance_rescales_to_the_conditional_norm():
    policy = _policy(cfg=3.0)
    images, _ = policy.generate(PROMPTS, [5, 6], steps=3)
    alone, _ = policy.generate(PROMPTS[1:], [6], steps=3)
    assert images.shape == (2, 3, 16, 16) and torch.allclose(images[1:], alone, atol=1e-5)
    cond, uncond = torch.randn(2, 4, 8), torch.randn(2, 4, 8)
    guided = policy._guide(cond, uncond)
    plain = uncond + 3.0 * (cond - uncond)
    assert torch.allclose(guided, plain * cond.norm(dim=-1, keepdim=True) / plain.norm(dim=-1, keepdim=True))
    assert policy.sigmas(4)[-1] == 0.0 and abs(policy.sigmas(4)[-2] - 0.02) < 1e-6  # Qwen-Image's shift_terminal


def test_grpo_raises_a_reward_on_a_qwen_image_policy_with_checkpointed_blocks(spatial_set, tmp_path):
    module = GRPOModule(_policy(), Brightness(), steps=4, noise_level=0.7, lr=1e-2, clip_range=0.2, adv_std="group",
                        activation_checkpointing=True)
    prompts = [PROMPTS[0]] * 8

    def brightness() -> float:
        images, _ = module.policy.generate(prompts, list(range(8)), steps=4)
        return images.mean().item()

    before = brightness()
    _trainer(tmp_path, 12).fit(module, datamodule=_data(spatial_set))
    assert brightness() > before + 0.02


def test_lora_with_kl_to_the_base_exports_what_the_diffusers_pipeline_loads(spatial_set, tmp_path):
    module = GRPOModule(_policy(LoraSpec(r=4, alpha=8)), Brightness(), steps=4, beta=0.1, lr=1e-2, clip_range=0.2)
    _trainer(tmp_path, 3).fit(module, datamodule=_data(spatial_set, 4, 2))
    assert module.rl_stats["kl_ref"] > 0
    module.export(tmp_path / "out")
    plain = _policy().pipe
    assert isinstance(plain, QwenImagePipeline)
    plain.load_lora_weights(str(tmp_path / "out" / "lora"), weight_name="pytorch_lora_weights.safetensors")
    adapter = lambda k: re.sub(r"\.default\w*\.", ".", k)  # noqa: E731 (diffusers names its adapter default_0)
    trained = {adapter(k): v for k, v in module.policy.transformer.state_dict().items() if "lora_" in k}
    loaded = {adapter(k): v for k, v in plain.transformer.state_dict().items() if "lora_" in k}
    assert trained and trained.keys() == loaded.keys() and all(torch.equal(v, loaded[k]) for k, v in trained.items())


def test_qwen_latents_apply_the_vaes_per_channel_mean_and_std():
    torch.manual_seed(0)
    vae = AutoencoderKLQwenImage(base_dim=8, z_dim=4, dim_mult=[1, 2], num_res_blocks=1, temperal_downsample=[False],
                                 latents_mean=[0.5, -0.5, 1.0, 0.0], latents_std=[2.0, 1.0, 0.5, 4.0]).eval()
    latents, images = QwenLatents(vae), torch.rand(1, 3, 16, 16) * 2 - 1
    raw = vae.encode(images[:, :, None]).latent_dist.mode()[:, :, 0]
    mean, std = torch.tensor([0.5, -0.5, 1.0, 0.0]).view(1, 4, 1, 1), torch.tensor([2.0, 1.0, 0.5, 4.0]).view(1, 4, 1, 1)
    encoded = latents.encode(images)
    assert latents.scale_factor == 2 and latents.latent_channels == 4 and encoded.shape == (1, 4, 8, 8)
    assert torch.allclose(encoded, (raw - mean) / std)
    assert torch.allclose(latents.decode(encoded), vae.decode(raw[:, :, None]).sample[:, :, 0], atol=1e-5)


def test_a_tiny_latent_policy_draws_through_a_qwen_image_vae():
    torch.manual_seed(0)
    policy = QwenImagePolicy(tiny=TinyQwenImage(image_size=32, pixel_factor=0, vae_levels=3), true_cfg_scale=1.0)
    assert isinstance(policy.latents, QwenLatents) and isinstance(policy.pipe.vae, AutoencoderKLQwenImage)
    assert policy.latents.scale_factor == 4 and policy.image_seq_len == 16
    images, _ = policy.generate(PROMPTS[:1], [0], steps=2)
    assert images.shape == (1, 3, 32, 32) and torch.isfinite(images).all()
    assert torch.isfinite(policy.flow_matching_loss(images, PROMPTS[:1], torch.Generator().manual_seed(0)))


def test_the_real_qwen_image_transformer_builds_on_meta_with_lora():
    policy = QwenImagePolicy(architecture="qwen_image", init_device="meta", dtype="bfloat16", resolution=512,
                             tiny=TinyQwenImage(max_sequence_length=16), lora=LoraSpec(r=4, alpha=8))
    base = [p for n, p in policy.transformer.named_parameters() if "lora_" not in n]
    assert all(p.is_meta for p in policy.transformer.parameters()) and {p.dtype for p in base} == {torch.bfloat16}
    assert sum(p.numel() for p in base) == 20_430_401_088 and len(policy.blocks()) == 60
    assert policy.image_seq_len == 1024 and policy.text_encoders[0].config.text_config.hidden_size == 3584


def test_zoo_policy_eval_builds_the_tiny_qwen_image_config_by_its_class_path():
    from pathlib import Path

    from zoo.policy.io import build_policy

    config = Path(__file__).resolve().parents[1] / "configs" / "grpo" / "tiny_qwen_image_verifier.yaml"
    policy = build_policy(config)
    assert isinstance(policy, QwenImagePolicy) and policy.cfg_scale == 1.0 and not policy.training
    assert len(policy.blocks()) == 2 and policy.resolution == 32
