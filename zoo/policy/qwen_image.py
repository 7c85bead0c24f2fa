"""Qwen-Image policies: from a checkpoint, or a tiny Qwen-Image-architecture transformer built from a config.

The components are diffusers' own (QwenImageTransformer2DModel, a Qwen2.5-VL text encoder, the flow-matching
scheduler with Qwen-Image's shift) held in a real `QwenImagePipeline`; the sampling loop, cache, loss, LoRA and
saving are `FlowPolicy`'s. Qwen-Image has no pooled text vector: its text tokens are padded to a fixed length and
masked (`TextEmbeds.mask`), and its true CFG rescales the guided velocity to the conditional one's norm.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
import transformers
from diffusers import (AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImagePipeline,
                       QwenImageTransformer2DModel)
from torch import nn

from zoo.policy.base import FlowPolicy, LoraSpec, TextEmbeds, frozen_init
from zoo.policy.build import build_transformer
from zoo.policy.flux import tiny_tokenizer
from zoo.policy.schedule import shifted_sigmas

__all__ = ["QWEN_IMAGE", "QwenImagePolicy", "QwenLatents", "TinyQwenImage", "build_tiny_qwen_image"]


@dataclass
class TinyQwenImage:
    """A tiny Qwen-Image-architecture policy: sizes, resolution and latent space (pixel space by default)."""

    image_size: int = 32
    pixel_factor: int = 2  # PixelShuffleVAE factor; 0 = a tiny Qwen-Image VAE (AutoencoderKLQwenImage, latent diffusion)
    layers: int = 2
    heads: int = 2
    head_dim: int = 16
    axes_dims_rope: tuple[int, int, int] = (4, 6, 6)  # sums to head_dim
    text_dim: int = 32  # the Qwen2.5-VL text encoder's width (Qwen-Image: 3584)
    text_layers: int = 1
    text_heads: int = 2
    max_sequence_length: int = 64
    frozen_seed: int = 0  # seed of the frozen random text encoder (and tiny VAE); the transformer uses the global one
    prediction: Literal["velocity", "x0"] = "velocity"  # as TinyFlux's
    vae_dim: int = 8  # with pixel_factor 0: the tiny VAE's base width
    vae_levels: int = 4  # its resolution levels (scale 2^(levels - 1): four = 8 pixels per latent cell, as Qwen-Image)
    vae_latent_channels: int = 16  # its latent channels (Qwen-Image: 16)


# the Qwen-Image transformer's own config (20.4 B parameters); with `architecture: qwen_image` a policy builds it with
# random weights beside a one-layer text encoder of its width (3584) and a tiny 16-channel Qwen-Image VAE
QWEN_IMAGE = dict(patch_size=2, in_channels=64, out_channels=16, num_layers=60, attention_head_dim=128,
                  num_attention_heads=24, joint_attention_dim=3584, guidance_embeds=False, axes_dims_rope=(16, 56, 56))
ARCHITECTURES = {"qwen_image": QWEN_IMAGE}
# Qwen-Image's scheduler: dynamic (exponential) shift between 0.5 and 0.9, stretched to end at 0.02
SCHEDULER = dict(shift=1.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=0.9, base_image_seq_len=256,
                 max_image_seq_len=8192, shift_terminal=0.02, time_shift_type="exponential")


def architecture_tiny(name: str, tiny: TinyQwenImage | None = None) -> TinyQwenImage:
    """The tiny parts around a real-size transformer: a text encoder of its width and a 16-channel latent space."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown Qwen-Image architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    base = asdict(tiny or TinyQwenImage(image_size=512, max_sequence_length=512))
    base.update(pixel_factor=0, text_dim=ARCHITECTURES[name]["joint_attention_dim"])
    return TinyQwenImage(**base)


def tiny_text_encoder(tokenizer, tiny: TinyQwenImage) -> transformers.Qwen2_5_VLForConditionalGeneration:
    """A tiny Qwen2.5-VL (Qwen-Image's text encoder family) whose token ids are the world tokenizer's."""
    ids = {n: tokenizer.convert_tokens_to_ids(f"<|{n}|>") for n in ("image_pad", "video_pad", "vision_start",
                                                                     "vision_end")}
    half = tiny.text_dim // tiny.text_heads // 2  # sum(mrope_section) must equal head_dim / 2
    section = [half - 2 * (half // 3), half // 3, half // 3]
    text = dict(vocab_size=len(tokenizer), hidden_size=tiny.text_dim, intermediate_size=2 * tiny.text_dim,
                num_hidden_layers=tiny.text_layers, num_attention_heads=tiny.text_heads,
                num_key_value_heads=tiny.text_heads, max_position_embeddings=2048, pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section})
    vision = dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, patch_size=8, out_hidden_size=tiny.text_dim,
                  window_size=32, fullatt_block_indexes=[0])
    config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=ids["image_pad"],
                                           video_token_id=ids["video_pad"], vision_start_token_id=ids["vision_start"],
                                           vision_end_token_id=ids["vision_end"])
    return transformers.Qwen2_5_VLForConditionalGeneration(config)


def tiny_vae(tiny: TinyQwenImage) -> tuple[AutoencoderKLQwenImage | None, int]:
    """(vae, latent channels): None for a fixed pixel space (`pixel_factor` > 0), else a tiny random Qwen-Image VAE
    (latent mean 0, std 1)."""
    if tiny.pixel_factor:
        return None, 3 * tiny.pixel_factor**2
    z = tiny.vae_latent_channels
    vae = AutoencoderKLQwenImage(base_dim=tiny.vae_dim, z_dim=z, dim_mult=[2 ** min(i, 2) for i in range(tiny.vae_levels)],
                                 num_res_blocks=1, temperal_downsample=[False] * (tiny.vae_levels - 1),
                                 latents_mean=[0.0] * z, latents_std=[1.0] * z)
    return vae, z


def build_tiny_qwen_image(tiny: TinyQwenImage, architecture: str | None = None,
                          init_device: str | None = None) -> QwenImagePipeline:
    """A real QwenImagePipeline with tiny random components (offline tokenizer); `architecture` names a real-size
    transformer config instead of the tiny one, built on the meta device with `init_device: meta`."""
    tokenizer = tiny_tokenizer(tiny.max_sequence_length)
    with frozen_init(tiny.frozen_seed):  # never trained, never saved: the same for any global seed
        text = tiny_text_encoder(tokenizer, tiny)
        vae, channels = tiny_vae(tiny)
    config = ARCHITECTURES[architecture] if architecture else dict(
        patch_size=2, in_channels=4 * channels, out_channels=channels, num_layers=tiny.layers,
        attention_head_dim=tiny.head_dim, num_attention_heads=tiny.heads, joint_attention_dim=tiny.text_dim,
        axes_dims_rope=tuple(tiny.axes_dims_rope))
    transformer = build_transformer(lambda: QwenImageTransformer2DModel(**config), init_device)
    return QwenImagePipeline(scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER), vae=vae, text_encoder=text,
                             tokenizer=tokenizer, transformer=transformer)


class QwenLatents(nn.Module):
    """Qwen-Image's own VAE (AutoencoderKLQwenImage, a one-frame video VAE) with its per-channel latent mean and std."""

    def __init__(self, vae) -> None:
        super().__init__()
        self.vae = vae

    @property
    def scale_factor(self) -> int:
        return 2 ** len(self.vae.temperal_downsample)

    @property
    def latent_channels(self) -> int:
        return self.vae.config.z_dim

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, shape = self.vae.config, (1, self.latent_channels, 1, 1)
        return (torch.tensor(cfg.latents_mean, dtype=like.dtype, device=like.device).view(shape),
                torch.tensor(cfg.latents_std, dtype=like.dtype, device=like.device).view(shape))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images (B, 3, H, W) -> normalised latents (B, C, H/8, W/8)."""
        latents = self.vae.encode(images.to(self.vae.dtype)[:, :, None]).latent_dist.mode()[:, :, 0]
        mean, std = self._stats(latents)
        return (latents - mean) / std

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents -> [-1, 1] images."""
        mean, std = self._stats(latents)
        return self.vae.decode((latents * std + mean).to(self.vae.dtype)[:, :, None]).sample[:, :, 0]


class QwenImagePolicy(FlowPolicy):
    """A Qwen-Image text-to-image policy: the same sampler, loss, LoRA and cache as Flux and SD3.

    Args:
        pretrained: local path or hub id (QwenImagePipeline.from_pretrained); None builds `tiny`.
        tiny: sizes of the tiny policy.
        resolution: image side in pixels (default: tiny.image_size, or 512).
        true_cfg_scale: Qwen-Image's classifier-free guidance against the empty prompt, rescaled to the conditional
            velocity's norm (1 = off; the pipeline's default is 4).
        max_sequence_length: text tokens per prompt (after Qwen-Image's prompt template); longer ones are truncated.
        lora: LoRA on the transformer; None trains (or freezes) the transformer as a whole.
        dtype: weights dtype ("bfloat16" on GPUs); LoRA weights stay fp32.
        train_text_encoders: train the text encoder with the transformer (tiny policies).
        architecture: without `pretrained`, a real-size transformer config ("qwen_image") with random weights.
        init_device: "meta" builds the transformer as shapes only; `materialize` (after FSDP2 sharding) fills it.
    """

    def __init__(self, pretrained: str | None = None, tiny: TinyQwenImage | None = None,
                 resolution: int | None = None, true_cfg_scale: float = 4.0, max_sequence_length: int | None = None,
                 lora: LoraSpec | None = None, dtype: str = "float32", train_text_encoders: bool = False,
                 architecture: str | None = None, init_device: str | None = None) -> None:
        super().__init__()
        if pretrained is None:
            tiny = architecture_tiny(architecture, tiny) if architecture else (tiny or TinyQwenImage())
            pipe = build_tiny_qwen_image(tiny, architecture, init_device)
            if dtype != "float32":
                pipe.transformer.to(getattr(torch, dtype))
        else:
            pipe = self._load_pretrained(QwenImagePipeline, QwenImageTransformer2DModel, pretrained, dtype, init_device)
        self.cfg_scale = true_cfg_scale
        # the real text encoder reads prompts inside a chat template whose system part it drops; tiny ones read them bare
        self.template = ("{}", 0) if pretrained is None else (pipe.prompt_template_encode,
                                                              pipe.prompt_template_encode_start_idx)
        self._setup(pipe, pretrained, tiny, resolution, max_sequence_length, 512, lora, train_text_encoders)

    def _latent_space(self, pipe, tiny) -> nn.Module:
        return super()._latent_space(pipe, tiny) if getattr(tiny, "pixel_factor", 0) else QwenLatents(pipe.vae)

    @property
    def long_tokenizer(self):
        return self.pipe.tokenizer

    def _encode_prompts(self, prompts: list[str]) -> TextEmbeds:
        """The text encoder's last hidden states, padded to max_sequence_length and masked (padding zeroed)."""
        template, drop = self.template
        tokens = self.pipe.tokenizer([template.format(p) for p in prompts], padding="max_length", truncation=True,
                                     max_length=self.max_sequence_length + drop, padding_side="right",
                                     return_tensors="pt").to(self._device())
        states = self.pipe.text_encoder(input_ids=tokens.input_ids, attention_mask=tokens.attention_mask,
                                        output_hidden_states=True).hidden_states[-1]
        embeds, mask = states[:, drop:], tokens.attention_mask[:, drop:]
        return TextEmbeds(embeds * mask.unsqueeze(-1).to(embeds.dtype), mask=mask)

    def pack(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) latents -> (B, h/2 * w/2, 4C) tokens."""
        b, c, h, w = latents.shape
        return QwenImagePipeline._pack_latents(latents, b, c, h, w)

    def unpack(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens -> (B, C, h, w) latents."""
        size, scale = self.resolution, self.latents.scale_factor
        return QwenImagePipeline._unpack_latents(tokens, size, size, scale)[:, :, 0]

    def _predict(self, tokens: torch.Tensor, sigma: torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        dtype, grid = self.transformer.dtype, self.latent_grid // 2
        return self.transformer(hidden_states=tokens.to(dtype), encoder_hidden_states=text.prompt_embeds.to(dtype),
                                encoder_hidden_states_mask=text.mask, timestep=sigma.to(dtype),
                                img_shapes=[[(1, grid, grid)]] * tokens.shape[0], return_dict=False)[0]

    def _guide(self, cond: torch.Tensor, uncond: torch.Tensor) -> torch.Tensor:
        """Qwen-Image's true CFG: the guided velocity rescaled, per token, to the conditional velocity's norm."""
        guided = super()._guide(cond, uncond)
        return guided * (cond.norm(dim=-1, keepdim=True) / guided.norm(dim=-1, keepdim=True))

    def sigmas(self, steps: int) -> list[float]:
        """The scheduler's own sigma schedule for `steps` steps, Qwen-Image's resolution-dependent shift included."""
        return shifted_sigmas(self.pipe.scheduler.config, steps, self.image_seq_len)
