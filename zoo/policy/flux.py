"""Flux policies: Flux.1-dev from a checkpoint, or a tiny Flux-architecture transformer built from a config.

The components are diffusers' own (FluxTransformer2DModel, CLIP and T5 text encoders, the
flow-matching scheduler, AutoencoderKL) held in a real `FluxPipeline`; the sampling loop is ours
(`zoo.policy.sampler`) so that every step has a log-probability.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import transformers
from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
from diffusers.pipelines.flux.pipeline_flux import calculate_shift
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict
from torch import nn
from tokenizers.processors import TemplateProcessing

from zoo.policy.sampler import Trajectory, sample, seeded_noise
from zoo.policy.vae import KLLatents, PixelShuffleVAE
from zoo.reward.tokenizer import build_world_tokenizer

log = logging.getLogger(__name__)
FLUX_LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"]


@dataclass
class TinyFlux:
    """A tiny Flux-architecture policy: sizes, resolution and latent space (pixel space by default)."""

    image_size: int = 64
    pixel_factor: int = 4  # PixelShuffleVAE factor; 0 = a tiny AutoencoderKL (scale 8, 16 channels)
    layers: int = 1
    single_layers: int = 2
    heads: int = 2
    head_dim: int = 16
    axes_dims_rope: tuple[int, int, int] = (4, 6, 6)
    text_dim: int = 32
    text_layers: int = 2
    max_sequence_length: int = 64


@dataclass
class LoraSpec:
    """LoRA on the transformer (peft): rank, alpha and target module names."""

    r: int = 32
    alpha: int = 64
    targets: list[str] = field(default_factory=lambda: list(FLUX_LORA_TARGETS))
    dropout: float = 0.0


@dataclass
class TextEmbeds:
    """Per-prompt text conditioning of a batch."""

    prompt_embeds: torch.Tensor
    pooled: torch.Tensor
    text_ids: torch.Tensor


def _tiny_tokenizer(max_length: int):
    tokenizer = build_world_tokenizer()
    eos = tokenizer.eos_token
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"$A {eos}", special_tokens=[(eos, tokenizer.eos_token_id)])  # CLIP pools at the end token
    tokenizer.model_max_length = max_length
    return tokenizer


def build_tiny_flux(tiny: TinyFlux) -> FluxPipeline:
    """A real FluxPipeline with tiny random components (offline tokenizer)."""
    clip_tok, t5_tok = _tiny_tokenizer(77), _tiny_tokenizer(tiny.max_sequence_length)
    text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        vocab_size=len(clip_tok), hidden_size=tiny.text_dim, intermediate_size=2 * tiny.text_dim,
        num_hidden_layers=tiny.text_layers, num_attention_heads=2, max_position_embeddings=77,
        eos_token_id=clip_tok.eos_token_id, pad_token_id=clip_tok.pad_token_id, bos_token_id=clip_tok.pad_token_id))
    text_2 = transformers.T5EncoderModel(transformers.T5Config(
        vocab_size=len(t5_tok), d_model=tiny.text_dim, d_ff=2 * tiny.text_dim, num_layers=tiny.text_layers,
        num_heads=2, d_kv=tiny.text_dim // 2, pad_token_id=t5_tok.pad_token_id, eos_token_id=t5_tok.eos_token_id))
    if tiny.pixel_factor:
        vae, channels = None, 3 * tiny.pixel_factor**2
    else:
        from diffusers import AutoencoderKL
        vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=16, block_out_channels=(8, 8, 8, 8),
                            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                            layers_per_block=1, norm_num_groups=4, shift_factor=0.0, scaling_factor=1.0)
        channels = 16
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4 * channels, num_layers=tiny.layers, num_single_layers=tiny.single_layers,
        attention_head_dim=tiny.head_dim, num_attention_heads=tiny.heads, joint_attention_dim=tiny.text_dim,
        pooled_projection_dim=tiny.text_dim, guidance_embeds=True, axes_dims_rope=tuple(tiny.axes_dims_rope))
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
                                                base_image_seq_len=256, max_image_seq_len=4096)
    return FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=text, tokenizer=clip_tok, text_encoder_2=text_2,
                        tokenizer_2=t5_tok, transformer=transformer)


class FluxPolicy(nn.Module):
    """A Flux text-to-image policy with an SDE sampler, flow-matching loss, LoRA and a text-embedding cache.

    Args:
        pretrained: local path or hub id of a Flux checkpoint (FluxPipeline.from_pretrained); None builds `tiny`.
        tiny: sizes of the tiny policy.
        resolution: image side in pixels (default: tiny.image_size, or 512).
        guidance: Flux's distilled guidance scale (3.5 for Flux.1-dev; no true CFG).
        max_sequence_length: T5 tokens per prompt; longer prompts are truncated, counted and warned.
        lora: LoRA on the transformer; None trains (or freezes) the transformer as a whole.
        dtype: weights dtype ("bfloat16" on GPUs); LoRA weights stay fp32.
    """

    def __init__(self, pretrained: str | None = None, tiny: TinyFlux | None = None, resolution: int | None = None,
                 guidance: float = 3.5, max_sequence_length: int | None = None, lora: LoraSpec | None = None,
                 dtype: str = "float32") -> None:
        super().__init__()
        if pretrained is None:
            tiny = tiny or TinyFlux()
            self.pipe = build_tiny_flux(tiny)
            self.latents = PixelShuffleVAE(tiny.pixel_factor) if tiny.pixel_factor else KLLatents(self.pipe.vae)
            resolution = resolution or tiny.image_size
            max_sequence_length = max_sequence_length or tiny.max_sequence_length
        else:
            self.pipe = FluxPipeline.from_pretrained(pretrained, torch_dtype=getattr(torch, dtype))
            self.latents = KLLatents(self.pipe.vae)
            resolution = resolution or 512
            max_sequence_length = max_sequence_length or 512
        self.transformer = self.pipe.transformer
        self.text_encoders = nn.ModuleList([self.pipe.text_encoder, self.pipe.text_encoder_2]).requires_grad_(False)
        self.resolution, self.guidance, self.max_sequence_length = resolution, guidance, max_sequence_length
        self.pretrained, self.tiny = pretrained, asdict(tiny) if tiny else None
        self.truncated = 0
        self._text_cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._check_resolution(resolution)
        self.lora: LoraSpec | None = None
        if lora is not None:
            self.add_lora(lora)

    # shapes ------------------------------------------------------------------------------------
    def _check_resolution(self, size: int) -> None:
        step = self.latents.scale_factor * 2  # the transformer packs 2x2 latent cells into one token
        if size % step or size < step:
            raise ValueError(f"resolution {size} cannot be encoded: it must be a positive multiple of {step} "
                             f"(latent scale {self.latents.scale_factor} x 2x2 packing)")

    @property
    def latent_grid(self) -> int:
        """Latent cells per side."""
        return self.resolution // self.latents.scale_factor

    @property
    def image_seq_len(self) -> int:
        """Image tokens per sample after 2x2 packing."""
        return (self.latent_grid // 2) ** 2

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

    # text --------------------------------------------------------------------------------------
    def encode_text(self, prompts: Sequence[str]) -> TextEmbeds:
        """Text embeddings, computed once per distinct prompt and cached (on CPU)."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._text_cache]
        if missing:
            self._count_truncation(missing)
            with torch.no_grad():
                embeds, pooled, _ = self.pipe.encode_prompt(missing, missing, device=self._device(),
                                                            max_sequence_length=self.max_sequence_length)
            for p, e, q in zip(missing, embeds, pooled):
                self._text_cache[p] = (e.cpu(), q.cpu())
        device = self._device()
        embeds = torch.stack([self._text_cache[p][0] for p in prompts]).to(device)
        pooled = torch.stack([self._text_cache[p][1] for p in prompts]).to(device)
        return TextEmbeds(embeds, pooled, torch.zeros(embeds.shape[1], 3, device=device))

    def _count_truncation(self, prompts: list[str]) -> None:
        for p in prompts:
            if not isinstance(p, str) or not p.strip():
                raise ValueError(f"empty or non-text prompt: {p!r}")
            n = len(self.pipe.tokenizer_2(p, add_special_tokens=True)["input_ids"])
            if n > self.max_sequence_length:
                self.truncated += 1
                log.warning("prompt of %d tokens truncated to max_sequence_length=%d (%d so far): %.60r...",
                            n, self.max_sequence_length, self.truncated, p)

    def _device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    # the model ---------------------------------------------------------------------------------
    def velocity(self, tokens: torch.Tensor, sigma: float | torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        """Predicted velocity for packed latents at noise level sigma (scalar or per sample)."""
        b = tokens.shape[0]
        timestep = torch.as_tensor(sigma, device=tokens.device, dtype=tokens.dtype).expand(b)
        guidance = torch.full((b,), self.guidance, device=tokens.device, dtype=tokens.dtype)
        out = self.transformer(hidden_states=tokens.to(self.transformer.dtype), encoder_hidden_states=text.prompt_embeds,
                               pooled_projections=text.pooled, timestep=timestep, img_ids=self._image_ids(tokens.device),
                               txt_ids=text.text_ids, guidance=guidance, return_dict=False)[0]
        return out

    def sigmas(self, steps: int) -> list[float]:
        """The scheduler's own sigma schedule for `steps` steps, Flux's resolution-dependent shift included."""
        scheduler = FlowMatchEulerDiscreteScheduler.from_config(self.pipe.scheduler.config)
        cfg = scheduler.config
        mu = calculate_shift(self.image_seq_len, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                             cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
        scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)
        return scheduler.sigmas.tolist()

    def noise(self, seeds: Sequence[int]) -> torch.Tensor:
        """Initial noise tokens, one seeded draw per sample (independent of batching)."""
        c = self.latents.latent_channels
        latents = seeded_noise(seeds, (c, self.latent_grid, self.latent_grid), device=self._device())
        return self.pack(latents)

    def images_to_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images (B, 3, H, W) -> packed latent tokens."""
        return self.pack(self.latents.encode(images.to(self._device()) * 2 - 1).float())

    def tokens_to_images(self, tokens: torch.Tensor) -> torch.Tensor:
        """Packed latent tokens -> [0, 1] images (B, 3, H, W)."""
        return ((self.latents.decode(self.unpack(tokens).float()) + 1) / 2).clamp(0, 1)

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], seeds: Sequence[int], steps: int = 28, noise_level: float = 0.0,
                 kind: str = "sde", sde_mask: Sequence[bool] | None = None, keep: bool = False,
                 batch_size: int | None = None) -> tuple[torch.Tensor, list[Trajectory]]:
        """Images in [0, 1] and their trajectories, in batches; the same seed gives the same image at any batch size."""
        sigmas = self.sigmas(steps)
        size = batch_size or len(prompts)
        images, trajectories = [], []
        for start in range(0, len(prompts), size):
            p, s = prompts[start:start + size], seeds[start:start + size]
            text = self.encode_text(p)
            traj = sample(lambda x, sigma: self.velocity(x, sigma, text), self.noise(s), sigmas, s, noise_level,
                          kind, sde_mask, keep)
            images.append(self.tokens_to_images(traj.final))
            trajectories.append(traj)
        return torch.cat(images), trajectories

    def flow_matching_loss(self, images: torch.Tensor, prompts: Sequence[str],
                           generator: torch.Generator | None = None, timesteps: str = "logit_normal") -> torch.Tensor:
        """Rectified-flow loss: x_t = (1 - t) x_0 + t eps, target eps - x_0; t ~ logit-normal(0, 1) (SD3/Flux)
        or uniform."""
        x0 = self.images_to_tokens(images)
        if timesteps == "uniform":
            t = torch.rand(x0.shape[0], generator=generator).to(x0.device)
        elif timesteps == "logit_normal":
            t = torch.sigmoid(torch.randn(x0.shape[0], generator=generator)).to(x0.device)
        else:
            raise ValueError(f"timesteps must be 'logit_normal' or 'uniform', got {timesteps!r}")
        eps = torch.randn(x0.shape, generator=generator).to(x0.device)
        xt = (1 - t[:, None, None]) * x0 + t[:, None, None] * eps
        v = self.velocity(xt, t, self.encode_text(prompts))
        return torch.nn.functional.mse_loss(v.float(), (eps - x0).float())

    # LoRA ----------------------------------------------------------------------------------------
    def add_lora(self, spec: LoraSpec) -> None:
        """Add LoRA adapters to the transformer (diffusers' peft integration); everything else frozen."""
        names = {n.rsplit(".", 1)[-1] for n, _ in self.transformer.named_modules()}
        full = {n for n, _ in self.transformer.named_modules()}
        unknown = [t for t in spec.targets if t not in names and not any(f.endswith("." + t) for f in full)]
        if unknown:
            raise ValueError(f"LoRA targets {unknown} match no module of the transformer; "
                             f"e.g. {sorted(names - {''})[:12]}")
        self.transformer.requires_grad_(False)
        self.lora = spec
        self.transformer.add_adapter(LoraConfig(r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                                                target_modules=list(spec.targets), init_lora_weights="gaussian"))
        for name, param in self.transformer.named_parameters():
            if "lora_" in name:
                param.data = param.data.float()

    def save(self, folder: str | Path) -> Path:
        """The trained part: LoRA weights (diffusers format) or the whole transformer (save_pretrained)."""
        folder = Path(folder)
        if self.lora is not None:
            return self.save_lora(folder / "lora")
        self.transformer.save_pretrained(folder / "transformer", safe_serialization=True)
        return folder

    def load_transformer(self, folder: str | Path) -> None:
        """Load a transformer saved by `save` (e.g. the SFT policy GRPO starts from)."""
        path = Path(folder) / "transformer"
        if not path.is_dir():
            raise FileNotFoundError(f"no saved transformer in {path}")
        saved = type(self.transformer).from_pretrained(path)
        self.transformer.load_state_dict(saved.state_dict())

    def save_lora(self, folder: str | Path) -> Path:
        """LoRA weights in diffusers' format: `FluxPipeline.load_lora_weights(folder)` reads them back."""
        if self.lora is None:
            raise ValueError("this policy has no LoRA adapters to save")
        layers = get_peft_model_state_dict(self.transformer)
        config = self.transformer.peft_config["default"].to_dict()  # rank and alpha travel with the weights
        FluxPipeline.save_lora_weights(str(folder), transformer_lora_layers=layers, safe_serialization=True,
                                       transformer_lora_adapter_metadata=config)
        return Path(folder)
