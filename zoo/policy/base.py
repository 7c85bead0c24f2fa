"""What every flow-matching policy shares: the text cache, guidance, generation, the SFT loss, LoRA and saving.

The protocol of a policy family (Flux, SD3, Qwen-Image): a subclass holds a real diffusers pipeline and says, through
the hooks below, how to encode prompts (`_encode_prompts`: embeddings, and a pooled vector or token mask if the family
has one), which latent space it uses (`_latent_space`), how to call its transformer (`_predict`), how latents become
tokens (`pack`/`unpack`), which sigma schedule its scheduler uses (`sigmas`) and which blocks are the units of FSDP2
and activation checkpointing (`block_names`, read by `blocks`). It builds its transformer with `zoo.policy.build`
(the meta-device path included). Nothing outside the family's own file names its internals.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Sequence

import torch
from peft import LoraConfig
from torch import nn

from zoo.policy.build import pretrained_pipeline
from zoo.policy.sampler import Trajectory, sample, seeded_noise
from zoo.policy.text import TextEmbeds
from zoo.policy.vae import KLLatents, PixelShuffleVAE
from zoo.policy.weights import SAVED_CONFIG_EXTRAS, PolicyWeights  # noqa: F401 (SAVED_CONFIG_EXTRAS: re-exported)
from zoo.dist.weights import has_meta, materialize

log = logging.getLogger(__name__)
PREDICTIONS = ("velocity", "x0")
X0_MIN_SIGMA = 0.05  # x0-prediction: the velocity (x_t - x0) / sigma divides by at least this (JiT's clamp)
TEXT_ENCODERS = ("text_encoder", "text_encoder_2", "text_encoder_3")
ATTENTION_LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"]


@dataclass
class LoraSpec:
    """LoRA on the transformer (peft): rank, alpha and target module names."""

    r: int = 32
    alpha: int = 64
    targets: list[str] = field(default_factory=lambda: list(ATTENTION_LORA_TARGETS))
    dropout: float = 0.0


def velocity_loss(v: torch.Tensor, target: torch.Tensor, t: torch.Tensor, weighting: str = "velocity") -> torch.Tensor:
    """Mean squared velocity error. "velocity": rectified flow's own (the implied clean-image error weighted 1/t^2,
    so low noise levels dominate); "x0": times t^2, the plain MSE of the implied clean image (every noise level
    alike, so the layout, decided at high noise, weighs as much)."""
    if weighting == "velocity":
        return (v - target).pow(2).mean()
    if weighting != "x0":
        raise ValueError(f"weighting must be 'velocity' or 'x0', got {weighting!r}")
    return ((v - target) * t.view(-1, *[1] * (v.ndim - 1))).pow(2).mean()


@contextmanager
def frozen_init(seed: int):
    """Build frozen random parts (a tiny policy's text encoders and VAE) from their own seed, whatever the global
    RNG: they are never saved, so a policy rebuilt elsewhere from the same config must get the same ones."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class FlowPolicy(PolicyWeights, nn.Module):
    """Base of the text-to-image policies: subclasses set `pipe`, `transformer`, `latents` and the hooks below.

    `cfg_scale` > 1 turns on true classifier-free guidance against the empty prompt (SD3 always uses it;
    Flux.1-dev is guidance-distilled and leaves it at 1).
    """

    pipe: object
    transformer: nn.Module
    latents: nn.Module
    resolution: int
    max_sequence_length: int
    cfg_scale: float = 1.0
    weights = None  # a checkpoint's WeightFiles that `materialize` fills a meta-built transformer from

    def _setup(self, pipe, pretrained: str | None, tiny, resolution: int | None, max_sequence_length: int | None,
               default_sequence_length: int, lora: LoraSpec | None, train_text: bool = False) -> None:
        """What every constructor does once its pipeline exists: latent space, text encoders (frozen unless
        `train_text`), defaults (tiny: its own size and sequence length; a checkpoint: 512 px and
        `default_sequence_length`), LoRA."""
        self.pipe, self.transformer = pipe, pipe.transformer
        self.latents = self._latent_space(pipe, tiny if pretrained is None else None)
        self.latents.requires_grad_(False)  # the VAE is fixed (trained apart: configs/pretrain/tiny_vae.yaml)
        self.text_encoder_names = [n for n in TEXT_ENCODERS if getattr(pipe, n, None) is not None]
        self.text_encoders = nn.ModuleList([getattr(pipe, n) for n in self.text_encoder_names]).requires_grad_(train_text)
        self.train_text = train_text
        self.text_weights = train_text
        self.vae_weights = bool(pretrained is None and getattr(tiny, "vae_from", None))  # a trained tiny VAE: saved
        self.prediction = getattr(tiny, "prediction", "velocity") if pretrained is None else "velocity"
        if self.prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {self.prediction!r}")  # whether `save` writes the text encoders (trained, or loaded from a save)
        self.pretrained, self.tiny = pretrained, asdict(tiny) if pretrained is None else None
        self.resolution = resolution or (tiny.image_size if pretrained is None else 512)
        self.max_sequence_length = max_sequence_length or (
            tiny.max_sequence_length if pretrained is None else default_sequence_length)
        self.truncated = 0
        self._text_cache: dict[str, tuple[torch.Tensor | None, ...]] = {}  # prompt -> TextEmbeds.rows() row
        self._check_resolution(self.resolution)
        self.train(self.training)  # frozen encoders to eval mode
        self.lora: LoraSpec | None = None
        if lora is not None:
            self.add_lora(lora)

    # hooks for subclasses ------------------------------------------------------------------------
    block_names: tuple[str, ...] = ("transformer_blocks",)  # the transformer's block lists, in order

    def _encode_prompts(self, prompts: list[str]) -> TextEmbeds:
        """The prompts' per-row conditioning from the pipeline's own text encoders: embeddings (B, L, D) of one fixed
        length L, and the family's pooled vector (B, P) and/or token mask (B, L) if it has them (text_ids: see
        `_text_ids`)."""
        raise NotImplementedError

    def _latent_space(self, pipe, tiny) -> nn.Module:
        """The fixed latent space (encode/decode, scale_factor, latent_channels): a tiny config's pixel space
        (`pixel_factor` > 0), else the pipeline's own KL VAE; `tiny` is None for a pretrained checkpoint."""
        factor = getattr(tiny, "pixel_factor", 0) if tiny is not None else 0
        return PixelShuffleVAE(factor) if factor else KLLatents(pipe.vae)

    def blocks(self, transformer: nn.Module | None = None) -> list[nn.Module]:
        """The transformer's blocks (this policy's, or a copy of it such as the RL reference): the units of FSDP2
        sharding and activation checkpointing."""
        transformer = self.transformer if transformer is None else transformer
        missing = [n for n in self.block_names if not hasattr(transformer, n)]
        if missing:
            raise AttributeError(f"{type(self).__name__}.block_names: {type(transformer).__name__} has no {missing}")
        return [b for name in self.block_names for b in getattr(transformer, name)]

    def _load_pretrained(self, pipeline_cls, transformer_cls, pretrained: str, dtype: str, init_device: str | None):
        """The family's pipeline from a checkpoint (see `zoo.policy.build.pretrained_pipeline`); a transformer built
        on meta is filled from the checkpoint's safetensors by `materialize`."""
        pipe, self.weights = pretrained_pipeline(pipeline_cls, transformer_cls, pretrained, dtype, init_device)
        return pipe

    def _predict(self, tokens: torch.Tensor, sigma: torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        """The transformer's velocity for tokens at per-sample noise levels sigma (B,)."""
        raise NotImplementedError

    def _text_ids(self, length: int, device) -> torch.Tensor | None:
        return None

    def sigmas(self, steps: int) -> list[float]:
        """The scheduler's own sigma schedule for `steps` steps, ending at 0."""
        raise NotImplementedError

    def pack(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) latents -> the transformer's input layout."""
        return latents

    def unpack(self, tokens: torch.Tensor) -> torch.Tensor:
        """The transformer's layout -> (B, C, h, w) latents."""
        return tokens

    @property
    def long_tokenizer(self):
        """The T5 tokenizer whose limit is max_sequence_length."""
        raise NotImplementedError

    @property
    def patch(self) -> int:
        """Latent cells per token side (2x2 packing or patching)."""
        return 2

    # shapes --------------------------------------------------------------------------------------
    def _check_resolution(self, size: int) -> None:
        step = self.latents.scale_factor * self.patch
        if size % step or size < step:
            raise ValueError(f"resolution {size} cannot be encoded: it must be a positive multiple of {step} "
                             f"(latent scale {self.latents.scale_factor} x {self.patch}x{self.patch} patches)")

    @property
    def latent_grid(self) -> int:
        """Latent cells per side."""
        return self.resolution // self.latents.scale_factor

    @property
    def image_seq_len(self) -> int:
        """Image tokens per sample."""
        return (self.latent_grid // self.patch) ** 2

    def train(self, mode: bool = True) -> "FlowPolicy":
        """Train mode for the transformer only: the frozen text encoders and VAE stay in eval mode, so cached
        embeddings never carry dropout noise (T5 has dropout 0.1 by default)."""
        super().train(mode)
        self.text_encoders.eval()
        self.latents.eval()
        if self.train_text:  # the encoders change while training: embeddings cached before are stale
            self._text_cache.clear()
        return self

    def materialize(self, device: torch.device | str) -> None:
        """Allocate a meta-built transformer on `device` (after FSDP2 sharding: only this rank's shards) and fill it
        from the checkpoint's safetensors (`weights`), or randomly; LoRA starts as the identity (lora_B = 0)."""
        if has_meta(self.transformer):
            materialize(self.transformer, device, 0.02, getattr(self, "weights", None))

    def _device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    # text ----------------------------------------------------------------------------------------
    def encode_text(self, prompts: Sequence[str]) -> TextEmbeds:
        """Text embeddings, computed once per distinct prompt and cached (on CPU); computed afresh (with gradients
        where enabled) while text encoders that are being trained (`train_text`) are in training mode."""
        bad = [p for p in prompts if not isinstance(p, str) or not p.strip()]
        if bad:
            raise ValueError(f"empty or non-text prompt: {bad[0]!r} (the empty prompt is the CFG branch: "
                             "use unconditional())")
        if self._text_fresh():
            return self._encode_fresh(list(prompts))
        missing = [p for p in dict.fromkeys(prompts) if p not in self._text_cache]
        if missing:
            self._count_truncation(missing)
            self._cache(missing)
        return self._from_cache(list(prompts))

    def unconditional(self, n: int) -> TextEmbeds:
        """Embeddings of the empty prompt: the negative branch of CFG and the target of caption dropout."""
        if self._text_fresh():
            return self._encode_fresh([""] * n)
        if "" not in self._text_cache:
            self._cache([""])
        return self._from_cache([""] * n)

    def _text_fresh(self) -> bool:
        """Text encoders being trained change every step: in training mode their embeddings are never cached."""
        return self.train_text and self.training

    def _encode_fresh(self, prompts: list[str]) -> TextEmbeds:
        text = self._encode_prompts(prompts)
        text.text_ids = self._text_ids(text.prompt_embeds.shape[1], text.prompt_embeds.device)
        return text

    def _cache(self, prompts: list[str]) -> None:
        with torch.no_grad():
            text = self._encode_prompts(prompts)
        for p, row in zip(prompts, text.rows()):
            self._text_cache[p] = row

    def _from_cache(self, prompts: list[str]) -> TextEmbeds:
        device = self._device()
        rows = [self._text_cache[p] for p in prompts]
        return TextEmbeds.stack(rows, device, self._text_ids(rows[0][0].shape[0], device))

    def _count_truncation(self, prompts: list[str]) -> None:
        for p in prompts:
            n = len(self.long_tokenizer(p, add_special_tokens=True)["input_ids"])
            if n > self.max_sequence_length:
                self.truncated += 1
                log.warning("prompt of %d tokens truncated to max_sequence_length=%d (%d so far): %.60r...",
                            n, self.max_sequence_length, self.truncated, p)

    # velocity, sampling, loss --------------------------------------------------------------------
    def velocity(self, tokens: torch.Tensor, sigma: float | torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        """Guided velocity at noise level sigma (scalar or per sample): what the sampler integrates."""
        b = tokens.shape[0]
        sigma = torch.as_tensor(sigma, device=tokens.device, dtype=torch.float32).expand(b)
        if self.cfg_scale == 1.0:
            return self.model_velocity(tokens, sigma, text)
        both = self.model_velocity(torch.cat([tokens, tokens]), torch.cat([sigma, sigma]),
                                    text.cat(self.unconditional(b)))
        cond, uncond = both.chunk(2)
        return self._guide(cond, uncond)

    def _guide(self, cond: torch.Tensor, uncond: torch.Tensor) -> torch.Tensor:
        """Classifier-free guidance of the conditional and unconditional velocities (a family may rescale it)."""
        return uncond + self.cfg_scale * (cond - uncond)

    def model_velocity(self, tokens: torch.Tensor, sigma: torch.Tensor, text: TextEmbeds) -> torch.Tensor:
        """The transformer's output as a velocity: itself ("velocity", Flux and SD3), or from a predicted clean
        image x0 ("x0", JiT-style, for tiny pixel-space policies whose tokens are wider than the model):
        v = (x_t - x0) / max(sigma, X0_MIN_SIGMA), since x_t = (1 - sigma) x0 + sigma eps."""
        out = self._predict(tokens, sigma, text)
        if self.prediction == "velocity":
            return out
        scale = sigma.to(out.dtype).clamp(min=X0_MIN_SIGMA).view(-1, *[1] * (out.ndim - 1))
        return (tokens.to(out.dtype) - out) / scale

    def noise(self, seeds: Sequence[int]) -> torch.Tensor:
        """Initial noise in the transformer's layout, one seeded draw per sample (independent of batching)."""
        c = self.latents.latent_channels
        return self.pack(seeded_noise(seeds, (c, self.latent_grid, self.latent_grid), device=self._device()))

    def images_to_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images (B, 3, H, W) -> latents in the transformer's layout."""
        return self.pack(self.latents.encode(images.to(self._device()) * 2 - 1).float())

    def tokens_to_images(self, tokens: torch.Tensor) -> torch.Tensor:
        """Latents in the transformer's layout -> [0, 1] images (B, 3, H, W)."""
        return ((self.latents.decode(self.unpack(tokens).float()) + 1) / 2).clamp(0, 1)

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], seeds: Sequence[int], steps: int = 28, noise_level: float = 0.0,
                 kind: str = "sde", sde_mask: Sequence[bool] | torch.Tensor | None = None, keep: bool = False,
                 batch_size: int | None = None, first_std: str = "next_sigma",
                 noise_seeds: Sequence[int] | None = None) -> tuple[torch.Tensor, list[Trajectory]]:
        """Images in [0, 1] and their trajectories, in batches; the same seed gives the same image at any batch size.
        sde_mask: which steps are SDE steps, (steps,) for every image or (len(prompts), steps) per image.
        noise_seeds: the initial noise's seeds when they differ from `seeds` (which then seed the SDE steps only),
        e.g. one per GRPO group (DanceGRPO's shared initial noise)."""
        if noise_seeds is not None and len(noise_seeds) != len(seeds):
            raise ValueError(f"noise_seeds has {len(noise_seeds)} entries for {len(seeds)} seeds")
        initial = seeds if noise_seeds is None else noise_seeds
        sigmas = self.sigmas(steps)
        size = batch_size or len(prompts)
        per_row = isinstance(sde_mask, torch.Tensor) and sde_mask.ndim == 2
        images, trajectories = [], []
        for start in range(0, len(prompts), size):
            p, s = prompts[start:start + size], seeds[start:start + size]
            mask = sde_mask[start:start + size] if per_row else sde_mask
            text = self.encode_text(p)
            x_init = self.noise(initial[start:start + size])
            traj = sample(lambda x, sigma: self.velocity(x, sigma, text), x_init, sigmas, s, noise_level,
                          kind, mask, keep, first_std)
            images.append(self.tokens_to_images(traj.final))
            trajectories.append(traj)
        return torch.cat(images), trajectories

    def flow_matching_loss(self, images: torch.Tensor, prompts: Sequence[str],
                           generator: torch.Generator | None = None, timesteps: str = "logit_normal",
                           prompt_dropout: float = 0.0, logit_mean: float = 0.0,
                           weighting: str = "velocity", contrastive: float = 0.0,
                           negatives: Sequence[int] | None = None) -> torch.Tensor:
        """Rectified-flow loss of the unguided model on the velocity (whatever the `prediction`):
        x_t = (1 - t) x_0 + t eps, target eps - x_0;
        t ~ logit-normal(logit_mean, 1) (SD3/Flux: mean 0; > 0 trains more at high noise, where the layout is decided)
        or uniform; prompt_dropout trains the empty prompt for CFG; weighting: see `velocity_loss`; `contrastive`
        (Delta-FM, Stoica et al. 2025) subtracts that weight times the error against another sample's target: the
        next sample's flow, or with `negatives` (per row, the index of its negative image, -1 for none) the flow from
        the same noise to that image (e.g. the other image of its preference pair: the same objects, placed as the
        perturbed prompt says)."""
        x0 = self.images_to_tokens(images)
        n = x0.shape[0]
        if timesteps == "uniform":
            t = torch.rand(n, generator=generator)
        elif timesteps == "logit_normal":
            t = torch.sigmoid(torch.randn(n, generator=generator) + logit_mean)
        else:
            raise ValueError(f"timesteps must be 'logit_normal' or 'uniform', got {timesteps!r}")
        t = t.to(x0.device)
        eps = torch.randn(x0.shape, generator=generator).to(x0.device)
        tb = t.view(-1, *[1] * (x0.ndim - 1))
        xt = (1 - tb) * x0 + tb * eps
        text = self.encode_text(prompts)
        if prompt_dropout > 0:
            text = text.where(torch.rand(n, generator=generator) < prompt_dropout, self.unconditional(n))
        v, target = self.model_velocity(xt, t, text).float(), (eps - x0).float()
        loss = velocity_loss(v, target, t, weighting)
        if contrastive and negatives is not None:  # the same noise flowing to the row's negative image
            pairs = [(i, j) for i, j in enumerate(negatives) if j >= 0]
            if pairs:
                rows, other = torch.tensor(pairs, dtype=torch.long, device=x0.device).T
                negative = (eps[rows] - x0[other]).float()
                loss = loss - contrastive * velocity_loss(v[rows], negative, t[rows], weighting)
        elif contrastive and n > 1:  # the next sample's flow in the batch: pushed away from, as in Delta-FM
            loss = loss - contrastive * velocity_loss(v, target.roll(1, 0), t, weighting)
        return loss

    # LoRA (saving and loading: zoo.policy.weights) ---------------------------------------------
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

    @contextmanager
    def adapters_disabled(self):
        """The base model for a while: LoRA adapters off (GRPO's KL reference without a second copy)."""
        if self.lora is None:
            raise ValueError("this policy has no LoRA adapters to disable")
        self.transformer.disable_adapters()
        try:
            yield
        finally:
            self.transformer.enable_adapters()
