"""SD3-family policies (SD3, SD3.5): from a checkpoint, or a tiny SD3-architecture transformer built from a config.

The components are diffusers' own (SD3Transformer2DModel, two CLIP text encoders with projection,
T5, the flow-matching scheduler with its static shift, AutoencoderKL) held in a real
`StableDiffusion3Pipeline`. SD3 is used with true classifier-free guidance (`guidance`, 4.5 as in
Flow-GRPO), so every sampling step runs the conditional and the empty prompt in one batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
import transformers
from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
from diffusers.pipelines.flux.pipeline_flux import calculate_shift

from zoo.policy.base import FlowPolicy, LoraSpec, TextEmbeds, frozen_init
from zoo.policy.build import build_transformer
from zoo.policy.flux import CLIP_END, clip_end_ids, tiny_tokenizer, tiny_vae

__all__ = ["SD3_5_MEDIUM", "SD3Policy", "TinySD3", "build_tiny_sd3"]


@dataclass
class TinySD3:
    """A tiny SD3-architecture policy: sizes, resolution and latent space (pixel space by default)."""

    image_size: int = 32
    pixel_factor: int = 2  # PixelShuffleVAE factor; 0 = a tiny AutoencoderKL (latent diffusion, as SD3)
    layers: int = 2
    heads: int = 2
    head_dim: int = 16
    text_dim: int = 32  # each CLIP's width; T5 is twice as wide (SD3 pads the CLIP features to T5's width)
    t5_dim: int | None = None  # T5's width when not 2 * text_dim (the real architectures: 4096)
    text_layers: int = 2
    max_sequence_length: int = 64
    frozen_seed: int = 0  # seed of the frozen random text encoders (and tiny VAE); the transformer uses the global one
    # what the transformer outputs: "velocity" (SD3) or "x0" (the clean image, JiT)
    prediction: Literal["velocity", "x0"] = "velocity"
    vae_channels: tuple[int, ...] = (8, 8, 8, 8)  # with pixel_factor 0: as TinyFlux's
    vae_latent_channels: int = 16
    vae_from: str | None = None


# the SD3.5-Medium transformer's own config (2.2 B parameters); with `architecture: sd3_5_medium` a policy builds it
# with random weights beside tiny text encoders of its widths (CLIPs 2 x 1024 pooled, T5 4096) and a 16-channel VAE
SD3_5_MEDIUM = dict(sample_size=128, patch_size=2, in_channels=16, num_layers=24, attention_head_dim=64,
                    num_attention_heads=24, joint_attention_dim=4096, caption_projection_dim=1536,
                    pooled_projection_dim=2048, out_channels=16, pos_embed_max_size=384,
                    dual_attention_layers=tuple(range(13)), qk_norm="rms_norm")
ARCHITECTURES = {"sd3_5_medium": SD3_5_MEDIUM}


def architecture_tiny(name: str, tiny: TinySD3 | None = None) -> TinySD3:
    """The tiny parts around a real-size transformer: text encoders of its widths (one layer) and a latent VAE."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown SD3 architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    config = ARCHITECTURES[name]
    base = asdict(tiny or TinySD3(image_size=512, max_sequence_length=256, text_layers=1))
    base.update(pixel_factor=0, text_dim=config["pooled_projection_dim"] // 2, t5_dim=config["joint_attention_dim"])
    return TinySD3(**base)


def _tiny_clip(tokenizer, tiny: TinySD3) -> transformers.CLIPTextModelWithProjection:
    return transformers.CLIPTextModelWithProjection(transformers.CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=tiny.text_dim, intermediate_size=2 * tiny.text_dim,
        projection_dim=tiny.text_dim, num_hidden_layers=tiny.text_layers, num_attention_heads=2,
        max_position_embeddings=77, **clip_end_ids(tokenizer)))


def build_tiny_sd3(tiny: TinySD3, architecture: str | None = None,
                   init_device: str | None = None) -> StableDiffusion3Pipeline:
    """A real StableDiffusion3Pipeline with tiny random components (offline tokenizers); `architecture` names a
    real-size transformer config instead of the tiny one, built on the meta device with `init_device: meta`."""
    clip_tok, t5_tok = tiny_tokenizer(77, CLIP_END), tiny_tokenizer(tiny.max_sequence_length)
    with frozen_init(tiny.frozen_seed):  # never trained, never saved: the same for any global seed
        t5_dim = tiny.t5_dim or 2 * tiny.text_dim
        t5 = transformers.T5EncoderModel(transformers.T5Config(
            vocab_size=len(t5_tok), d_model=t5_dim, d_ff=2 * t5_dim, num_layers=tiny.text_layers,
            num_heads=2, d_kv=t5_dim // 2, pad_token_id=t5_tok.pad_token_id, eos_token_id=t5_tok.eos_token_id))
        vae, channels = tiny_vae(tiny)
        clip, clip_2 = _tiny_clip(clip_tok, tiny), _tiny_clip(clip_tok, tiny)
    grid = tiny.image_size // (tiny.pixel_factor or 2 ** (len(tiny.vae_channels) - 1))
    config = ARCHITECTURES[architecture] if architecture else dict(
        sample_size=grid, patch_size=2, in_channels=channels, out_channels=channels, num_layers=tiny.layers,
        attention_head_dim=tiny.head_dim, num_attention_heads=tiny.heads, joint_attention_dim=t5_dim,
        caption_projection_dim=tiny.heads * tiny.head_dim, pooled_projection_dim=2 * tiny.text_dim,
        pos_embed_max_size=max(grid // 2, 8))
    transformer = build_transformer(lambda: SD3Transformer2DModel(**config), init_device)
    return StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), vae=vae,
        text_encoder=clip, tokenizer=clip_tok, text_encoder_2=clip_2,
        tokenizer_2=clip_tok, text_encoder_3=t5, tokenizer_3=t5_tok)


class SD3Policy(FlowPolicy):
    """An SD3 / SD3.5 text-to-image policy: the same sampler, loss, LoRA and cache as Flux, with true CFG.

    Args:
        pretrained: local path or hub id (StableDiffusion3Pipeline.from_pretrained); None builds `tiny`.
        tiny: sizes of the tiny policy.
        resolution: image side in pixels (default: tiny.image_size, or 512).
        guidance: classifier-free guidance scale against the empty prompt (1 = off).
        max_sequence_length: T5 tokens per prompt; longer prompts are truncated, counted and warned.
        lora: LoRA on the transformer; None trains (or freezes) the transformer as a whole.
        dtype: weights dtype ("bfloat16" on GPUs); LoRA weights stay fp32.
        train_text_encoders: train the text encoders with the transformer (tiny policies: learned text
            conditioning); they are saved with the policy and loaded with it.
        architecture: without `pretrained`, a real-size transformer config ("sd3_5_medium") with random weights.
        init_device: "meta" builds the transformer as shapes only; `materialize` (after FSDP2 sharding) allocates
            each rank's shards and fills them from `pretrained`'s transformer safetensors, or randomly.
    """

    def __init__(self, pretrained: str | None = None, tiny: TinySD3 | None = None, resolution: int | None = None,
                 guidance: float = 4.5, max_sequence_length: int | None = None, lora: LoraSpec | None = None,
                 dtype: str = "float32", train_text_encoders: bool = False, architecture: str | None = None,
                 init_device: str | None = None) -> None:
        super().__init__()
        if pretrained is None:
            tiny = architecture_tiny(architecture, tiny) if architecture else (tiny or TinySD3())
            pipe = build_tiny_sd3(tiny, architecture, init_device)
            if dtype != "float32":
                pipe.transformer.to(getattr(torch, dtype))
        else:
            pipe = self._load_pretrained(StableDiffusion3Pipeline, SD3Transformer2DModel, pretrained, dtype,
                                         init_device)
        self.guidance = self.cfg_scale = guidance
        self._setup(pipe, pretrained, tiny, resolution, max_sequence_length, 256, lora, train_text_encoders)

    @property
    def long_tokenizer(self):
        return self.pipe.tokenizer_3

    def _encode_prompts(self, prompts: list[str]) -> TextEmbeds:
        embeds, _, pooled, _ = self.pipe.encode_prompt(prompts, prompts, prompts, device=self._device(),
                                                       do_classifier_free_guidance=False,
                                                       max_sequence_length=self.max_sequence_length)
        return TextEmbeds(embeds, pooled)

    def _predict(self, tokens: torch.Tensor, sigma: torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        dtype = self.transformer.dtype
        timestep = sigma.to(dtype) * self.pipe.scheduler.config.num_train_timesteps  # SD3 takes t in [0, 1000]
        return self.transformer(hidden_states=tokens.to(dtype), encoder_hidden_states=text.prompt_embeds.to(dtype),
                                pooled_projections=text.pooled.to(dtype), timestep=timestep, return_dict=False)[0]

    def sigmas(self, steps: int) -> list[float]:
        """The scheduler's own sigma schedule for `steps` steps (SD3's static shift, or its dynamic one)."""
        scheduler = FlowMatchEulerDiscreteScheduler.from_config(self.pipe.scheduler.config)
        cfg = scheduler.config
        if cfg.get("use_dynamic_shifting"):
            mu = calculate_shift(self.image_seq_len, cfg.get("base_image_seq_len", 256),
                                 cfg.get("max_image_seq_len", 4096), cfg.get("base_shift", 0.5),
                                 cfg.get("max_shift", 1.16))
            scheduler.set_timesteps(steps, mu=mu)
        else:
            scheduler.set_timesteps(steps)
        return scheduler.sigmas.tolist()
