"""Flux policies: Flux.1-dev from a checkpoint, or a tiny Flux-architecture transformer built from a config.

The components are diffusers' own (FluxTransformer2DModel, CLIP and T5 text encoders, the
flow-matching scheduler, AutoencoderKL) held in a real `FluxPipeline`; the sampling loop is ours
(`zoo.policy.sampler`) so that every step has a log-probability.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
import transformers
from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
from torch import nn
from tokenizers.processors import TemplateProcessing

from zoo.policy.base import FlowPolicy, LoraSpec, TextEmbeds, frozen_init
from zoo.policy.build import build_transformer as build_module
from zoo.policy.schedule import shifted_sigmas
from zoo.policy.vae import build_tiny_vae, load_vae_weights
from zoo.world.tokenizer import CLIP_END, build_world_tokenizer

__all__ = ["FLUX_DEV", "FluxPolicy", "LoraSpec", "TextEmbeds", "TinyFlux", "build_tiny_flux"]


@dataclass
class TinyFlux:
    """A tiny Flux-architecture policy: sizes, resolution and latent space (pixel space by default)."""

    image_size: int = 64
    pixel_factor: int = 4  # PixelShuffleVAE factor; 0 = a tiny AutoencoderKL (latent diffusion, as Flux)
    layers: int = 1
    single_layers: int = 2
    heads: int = 2
    head_dim: int = 16
    axes_dims_rope: tuple[int, int, int] = (4, 6, 6)
    text_dim: int = 32
    text_layers: int = 2
    max_sequence_length: int = 64
    identity_init: bool = False  # start as the identity velocity map (see identity_init below)
    frozen_seed: int = 0  # seed of the frozen random text encoders (and tiny VAE); the transformer uses the global one
    pooled_dim: int | None = None  # width of the CLIP encoder (pooled projection); None: text_dim
    # what the transformer outputs: "velocity" (Flux) or "x0" (the clean image, JiT)
    prediction: Literal["velocity", "x0"] = "velocity"
    # the pooled text vector: CLIP's end token ("end", as Flux) or the mean of its token states
    pooling: Literal["end", "mean"] = "end"
    clip_layers: int | None = None  # layers of the CLIP text encoder; None: text_layers
    clip_heads: int = 2  # attention heads of the CLIP text encoder
    clip_from: str | None = None  # a saved CLIP (e.g. the caption-pretrained CLIP baseline's backbone/model) whose
    #   text tower initialises the CLIP text encoder (same sizes: pooled_dim, clip_layers, clip_heads); saved with the
    #   policy, so a policy loaded from that save needs only the sizes
    vae_channels: tuple[int, ...] = (8, 8, 8, 8)  # with pixel_factor 0: the AutoencoderKL's block widths (scale
    #   2^(n - 1): four blocks = 8 pixels per latent cell, as Flux's VAE)
    vae_latent_channels: int = 16  # its latent channels (Flux: 16)
    vae_from: str | None = None  # a trained AutoencoderKL of those sizes (configs/pretrain/tiny_vae.yaml's export);
    #   without it the VAE is random and frozen. Saved with the policy (vae/), like clip_from's text tower
    text_positions: bool = False  # text token i at position i on the first RoPE axis (Flux: all text at 0, its
    #   pretrained T5 carries word order; a tiny random T5 does not, see `_text_ids`)
    t5_from: str | None = None  # a saved T5 encoder of the same sizes (e.g. layout-pretrained on the world's captions,
    #   `zoo.policy.text_layout`) instead of the frozen random one; saved with the policy, like clip_from
    text_mask: bool = False  # mask the T5 padding, in T5 and in the transformer's joint attention, and drop the
    #   padding past a batch's longest prompt (as Chroma and Qwen-Image; Flux.1 attends to its padding): padding
    #   then changes nothing, and a short prompt's few tokens are not outweighed by dozens of identical pads


# the Flux.1-dev transformer's own config (11.9 B parameters); with `architecture: flux_dev` a policy builds it with
# random weights beside tiny text encoders of its widths (T5 4096, CLIP 768) and a tiny 16-channel VAE
FLUX_DEV = dict(patch_size=1, in_channels=64, num_layers=19, num_single_layers=38, attention_head_dim=128,
                num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=True,
                axes_dims_rope=(16, 56, 56))
ARCHITECTURES = {"flux_dev": FLUX_DEV}


def architecture_tiny(name: str, tiny: TinyFlux | None = None) -> TinyFlux:
    """The tiny parts around a real-size transformer: text encoders of its widths and a 16-channel latent space."""
    config = ARCHITECTURES[name]
    base = asdict(tiny or TinyFlux(image_size=512, max_sequence_length=512))
    base.update(pixel_factor=0, text_dim=config["joint_attention_dim"], pooled_dim=config["pooled_projection_dim"])
    return TinyFlux(**base)


def build_transformer(config: dict, init_device: str | None = None) -> FluxTransformer2DModel:
    """A FluxTransformer2DModel from a config, on the meta device (shapes only) when `init_device` is "meta"."""
    return build_module(lambda: FluxTransformer2DModel(**config), init_device)


def identity_init(transformer: FluxTransformer2DModel, generator: torch.Generator | None = None) -> None:
    """Start a tiny transformer as a clean pass-through: adaLN modulations at zero (every block adds nothing at
    first, DiT's adaLN-zero) and an orthogonal token embedding whose transpose is the output projection, so the
    initial velocity is roughly the noisy input itself. Pixel-space policies must pass the noise through to
    predict the velocity; measured on SpatialShapes SFT, this start finds more objects at equal training time
    than diffusers' default initialisation (numbers in the README)."""
    with torch.no_grad():
        for name, module in transformer.named_modules():
            if isinstance(module, nn.Linear) and name.endswith(
                    ("norm1.linear", "norm1_context.linear", "norm.linear", "norm_out.linear")):
                module.weight.zero_()
                module.bias.zero_()
        embed, out = transformer.x_embedder, transformer.proj_out
        width, channels = embed.weight.shape
        q, _ = torch.linalg.qr(torch.randn(max(width, channels), min(width, channels), generator=generator))
        q = q if width >= channels else q.T  # (width, channels), orthonormal columns or rows (then a projection)
        embed.weight.copy_(q)
        embed.bias.zero_()
        out.weight.copy_(q.T * (channels / width) ** 0.5)
        out.bias.zero_()


def tiny_tokenizer(max_length: int, end: str | None = None):
    """The offline world BPE tokenizer, ending every prompt with `end` (default: its end-of-turn token).

    Tiny CLIP towers end with `CLIP_END` (id 0, also the padding): transformers' CLIPTextModel pools at the first
    `eos_token_id` unless that id is 2, where it keeps the legacy rule "pool at the highest token id" (the end
    token of OpenAI's vocabulary). The world tokenizer's end-of-turn id *is* 2, so with it the pooled vector was
    taken at the prompt's highest-id word and, the tower being causal, saw only the prompt up to that word."""
    tokenizer = build_world_tokenizer()
    end = end or tokenizer.eos_token
    end_id = tokenizer.convert_tokens_to_ids(end)
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(single=f"$A {end}", special_tokens=[(end, end_id)])
    tokenizer.model_max_length = max_length
    return tokenizer


def clip_end_ids(tokenizer) -> dict[str, int]:
    """CLIPTextConfig ids for a tiny CLIP tower read through `tiny_tokenizer(..., end=CLIP_END)`: it pools at the
    end token (first occurrence, as real CLIP)."""
    end_id = tokenizer.convert_tokens_to_ids(CLIP_END)
    if end_id == 2:
        raise ValueError("a CLIP end token with id 2 makes transformers pool at the highest token id")
    return {"eos_token_id": end_id, "pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.pad_token_id}


def tiny_vae(tiny):
    """(vae, latent channels): None for a fixed pixel space (`pixel_factor` > 0), else a tiny AutoencoderKL of the
    tiny config's sizes (default: scale 8, 16 channels), random or loaded from `vae_from`."""
    if tiny.pixel_factor:
        return None, 3 * tiny.pixel_factor**2
    channels = tuple(getattr(tiny, "vae_channels", (8, 8, 8, 8)))
    vae = build_tiny_vae(channels, getattr(tiny, "vae_latent_channels", 16))
    if getattr(tiny, "vae_from", None):
        load_vae_weights(vae, tiny.vae_from)
    return vae, vae.config.latent_channels


def tiny_t5(tiny: TinyFlux, tokenizer) -> transformers.T5EncoderModel:
    """The tiny policy's T5 encoder (random weights from the current RNG), of `tiny`'s width and depth."""
    return transformers.T5EncoderModel(transformers.T5Config(
        vocab_size=len(tokenizer), d_model=tiny.text_dim, d_ff=2 * tiny.text_dim, num_layers=tiny.text_layers,
        num_heads=2, d_kv=tiny.text_dim // 2, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id))


def build_tiny_flux(tiny: TinyFlux, architecture: str | None = None, init_device: str | None = None) -> FluxPipeline:
    """A real FluxPipeline with tiny random components (offline tokenizer); `architecture` names a real-size
    transformer config instead of the tiny one."""
    clip_tok, t5_tok = tiny_tokenizer(77, CLIP_END), tiny_tokenizer(tiny.max_sequence_length)
    with frozen_init(tiny.frozen_seed):  # never trained, never saved: the same for any global seed
        clip_dim = tiny.pooled_dim or tiny.text_dim
        text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
            vocab_size=len(clip_tok), hidden_size=clip_dim, intermediate_size=2 * clip_dim,
            num_hidden_layers=tiny.clip_layers or tiny.text_layers, num_attention_heads=tiny.clip_heads,
            max_position_embeddings=77, **clip_end_ids(clip_tok)))
        text_2 = tiny_t5(tiny, t5_tok)
        vae, channels = tiny_vae(tiny)
    config = ARCHITECTURES[architecture] if architecture else dict(
        patch_size=1, in_channels=4 * channels, num_layers=tiny.layers, num_single_layers=tiny.single_layers,
        attention_head_dim=tiny.head_dim, num_attention_heads=tiny.heads, joint_attention_dim=tiny.text_dim,
        pooled_projection_dim=clip_dim, guidance_embeds=True, axes_dims_rope=tuple(tiny.axes_dims_rope))
    transformer = build_transformer(config, init_device)
    if tiny.identity_init and init_device != "meta":
        identity_init(transformer)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
                                                base_image_seq_len=256, max_image_seq_len=4096)
    return FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=text, tokenizer=clip_tok, text_encoder_2=text_2,
                        tokenizer_2=t5_tok, transformer=transformer)


TEXT_SIZE_KEYS = {
    "CLIPTextModel": ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                      "max_position_embeddings", "eos_token_id"),
    "T5EncoderModel": ("vocab_size", "d_model", "d_ff", "num_layers", "num_heads", "d_kv", "pad_token_id"),
}
TEXT_SIZE_HINT = {"CLIPTextModel": "set tiny.pooled_dim, clip_layers and clip_heads to match",
                  "T5EncoderModel": "set tiny.text_dim and text_layers to match"}


def load_text_tower(encoder: transformers.PreTrainedModel, folder: str, option: str) -> None:
    """Fill a tiny policy's text encoder from a saved one of the same class and sizes (`option` names the setting
    in errors): a CLIPModel's or CLIPTextModel's folder for CLIP (caption-pretrained, as Flux's CLIP-L), a
    T5EncoderModel's for T5 (e.g. `zoo.policy.text_layout`'s layout-pretrained encoder)."""
    path = Path(folder)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{option}: {path} holds no saved text encoder (config.json missing)")
    kind = type(encoder).__name__
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # a CLIPModel folder also holds the vision tower: not an error here
    try:
        saved = type(encoder).from_pretrained(path, use_safetensors=True)
    finally:
        transformers.logging.set_verbosity(verbosity)
    mine, theirs = encoder.config, saved.config
    differ = {k: (getattr(mine, k), getattr(theirs, k)) for k in TEXT_SIZE_KEYS[kind]
              if getattr(mine, k) != getattr(theirs, k)}
    if differ:
        raise ValueError(f"{option}: the {kind} in {path} does not fit the tiny policy's sizes "
                         f"(setting: policy, saved): {differ}; {TEXT_SIZE_HINT[kind]}")
    encoder.load_state_dict(saved.state_dict())


class FluxPolicy(FlowPolicy):
    """A Flux text-to-image policy with an SDE sampler, flow-matching loss, LoRA and a text-embedding cache.

    Args:
        pretrained: local path or hub id of a Flux checkpoint (FluxPipeline.from_pretrained); None builds `tiny`.
        tiny: sizes of the tiny policy.
        resolution: image side in pixels (default: tiny.image_size, or 512).
        guidance: Flux's distilled guidance scale (3.5 for Flux.1-dev).
        true_cfg_scale: true classifier-free guidance against the empty prompt (diffusers' `true_cfg_scale`);
            1 = off, as Flux.1-dev is used.
        max_sequence_length: T5 tokens per prompt; longer prompts are truncated, counted and warned.
        lora: LoRA on the transformer; None trains (or freezes) the transformer as a whole.
        dtype: weights dtype ("bfloat16" on GPUs); LoRA weights stay fp32.
        architecture: with no `pretrained`, a real-size transformer with random weights ("flux_dev"), e.g. for
            benchmarks; the text encoders and VAE stay tiny (their widths from the transformer's config).
        init_device: "meta" builds the transformer as shapes only; `materialize` (after FSDP2 sharding) allocates
            each rank's shards and fills them from `pretrained`'s transformer safetensors, or randomly.
        train_text_encoders: train the text encoders with the transformer (tiny policies: learned text
            conditioning instead of frozen random encoders); they are saved with the policy and loaded with it.
    """

    def __init__(self, pretrained: str | None = None, tiny: TinyFlux | None = None, resolution: int | None = None,
                 guidance: float = 3.5, true_cfg_scale: float = 1.0, max_sequence_length: int | None = None,
                 lora: LoraSpec | None = None, dtype: str = "float32", architecture: str | None = None,
                 init_device: str | None = None, train_text_encoders: bool = False) -> None:
        super().__init__()
        if pretrained is None:
            tiny = architecture_tiny(architecture, tiny) if architecture else (tiny or TinyFlux())
            pipe = build_tiny_flux(tiny, architecture, init_device)
            if dtype != "float32":
                pipe.transformer.to(getattr(torch, dtype))
        else:
            pipe = self._load_pretrained(FluxPipeline, FluxTransformer2DModel, pretrained, dtype, init_device)
        self.guidance, self.cfg_scale = guidance, true_cfg_scale
        self._setup(pipe, pretrained, tiny, resolution, max_sequence_length, 512, lora, train_text_encoders)
        if pretrained is None and tiny.clip_from:
            load_text_tower(pipe.text_encoder, tiny.clip_from, "clip_from")
            self.text_weights = True  # not the frozen_seed's random tower: saved with the policy
        if pretrained is None and tiny.t5_from:
            load_text_tower(pipe.text_encoder_2, tiny.t5_from, "t5_from")
            self.text_weights = True

    block_names = ("transformer_blocks", "single_transformer_blocks")

    @property
    def long_tokenizer(self):
        return self.pipe.tokenizer_2

    def _encode_prompts(self, prompts: list[str]) -> TextEmbeds:
        mask = None
        if self.tiny is not None and self.tiny.get("text_mask", False):
            embeds, mask = self._t5_masked(prompts)
        else:
            embeds, pooled, _ = self.pipe.encode_prompt(prompts, prompts, device=self._device(),
                                                        max_sequence_length=self.max_sequence_length)
        if self.tiny is not None and self.tiny.get("pooling", "end") == "mean":
            pooled = self._mean_pooled(prompts)
        elif mask is not None:
            pooled = self.pipe._get_clip_prompt_embeds(prompts, device=self._device())
        return TextEmbeds(embeds, pooled, mask=mask)

    def _t5_masked(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """T5 states of the real tokens only (T5 told the padding mask) and that mask (`text_mask`)."""
        tokens = self.pipe.tokenizer_2(prompts, padding="max_length", max_length=self.max_sequence_length,
                                       truncation=True, return_tensors="pt").to(self._device())
        embeds = self.pipe.text_encoder_2(tokens.input_ids, attention_mask=tokens.attention_mask).last_hidden_state
        return embeds, tokens.attention_mask.bool()

    def _mean_pooled(self, prompts: list[str]) -> torch.Tensor:
        """The mean of CLIP's token states over each prompt's tokens (tiny policies with `pooling: mean`: a small
        CLIP's end token alone carries little of the prompt, the mean carries every word and its left context)."""
        tokens = self.pipe.tokenizer(prompts, padding="max_length", max_length=self.pipe.tokenizer.model_max_length,
                                     truncation=True, return_tensors="pt").to(self._device())
        states = self.pipe.text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask).last_hidden_state
        mask = tokens.attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1)

    def _text_ids(self, length: int, device) -> torch.Tensor:
        """Flux's text positions: all zero, or with `tiny.text_positions` token i at i on the first axis (a tiny
        random frozen T5 is a bag of words: swapping two noun phrases changes its token states by < 0.1 %)."""
        ids = torch.zeros(length, 3, device=device)
        if self.tiny is not None and self.tiny.get("text_positions", False):
            ids[:, 0] = torch.arange(length, device=device)
        return ids

    def _image_ids(self, device) -> torch.Tensor:
        return FluxPipeline._prepare_latent_image_ids(1, self.latent_grid // 2, self.latent_grid // 2, device,
                                                      torch.float32)

    def pack(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) latents -> (B, h/2 * w/2, 4C) tokens."""
        b, c, h, w = latents.shape
        return FluxPipeline._pack_latents(latents, b, c, h, w)

    def unpack(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens -> (B, C, h, w) latents."""
        return FluxPipeline._unpack_latents(tokens, self.resolution, self.resolution, self.latents.scale_factor)

    def _predict(self, tokens: torch.Tensor, sigma: torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        dtype = self.transformer.dtype
        guidance = torch.full((tokens.shape[0],), self.guidance, device=tokens.device, dtype=dtype)
        embeds, txt_ids, attention = text.prompt_embeds, text.text_ids, None
        if text.mask is not None:  # `text_mask`: the batch's real tokens only, the rest of its padding masked
            length = int(text.mask.sum(1).max())
            embeds, txt_ids, mask = embeds[:, :length], txt_ids[:length], text.mask[:, :length].to(tokens.device)
            image = torch.ones(mask.shape[0], tokens.shape[1], dtype=torch.bool, device=tokens.device)
            attention = {"attention_mask": torch.cat([mask, image], 1)[:, None, None, :]}
        return self.transformer(hidden_states=tokens.to(dtype), encoder_hidden_states=embeds.to(dtype),
                                pooled_projections=text.pooled.to(dtype), timestep=sigma.to(dtype),
                                img_ids=self._image_ids(tokens.device), txt_ids=txt_ids, guidance=guidance,
                                joint_attention_kwargs=attention, return_dict=False)[0]

    def sigmas(self, steps: int) -> list[float]:
        """The scheduler's own sigma schedule for `steps` steps, Flux's resolution-dependent shift included."""
        return shifted_sigmas(self.pipe.scheduler.config, steps, self.image_seq_len)
