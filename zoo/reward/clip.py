"""CLIP-style dual-encoder reward backbone (the PickScore / HPSv2 family), the classic baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Sequence

import torch
import transformers
from PIL import Image
from torch import nn

from zoo.reward.backbones import RewardBackbone, register_backbone
from zoo.settings import Field, integer
from zoo.world.tokenizer import CLIP_END, build_world_tokenizer


@dataclass
class TinyCLIP:
    """Sizes of a tiny CLIP built from a config (ViT with absolute position embeddings)."""

    image_size: int = 64
    patch_size: int = 8
    hidden_size: int = 128
    layers: int = 3
    heads: int = 4
    vision_hidden_size: int = 128
    vision_layers: int = 3
    projection_dim: int = 128
    vocab_size: int = 512


@dataclass
class CLIPInputs:
    """(prompt, image) lists -> CLIP inputs; prompts truncated to the text model's limit (counted)."""

    tokenizer: Any
    image_processor: Any
    max_prompt_tokens: int = 77
    truncated: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.max_prompt_tokens, int) or self.max_prompt_tokens < 1:
            raise ValueError(f"max_prompt_tokens must be an integer >= 1, got {self.max_prompt_tokens!r}")

    def __call__(self, prompts: Sequence[str], images: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        if len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts but {len(images)} images")
        for p in prompts:
            if not isinstance(p, str) or not p.strip():
                raise ValueError(f"empty or non-text prompt: {p!r}")
        text = self.tokenizer(list(prompts), padding=True, truncation=True, max_length=self.max_prompt_tokens,
                              return_tensors="pt", return_overflowing_tokens=False)
        full = self.tokenizer(list(prompts), add_special_tokens=True)["input_ids"]
        self.truncated += sum(len(ids) > self.max_prompt_tokens for ids in full)
        pixels = self.image_processor(images=[im.convert("RGB") for im in images], return_tensors="pt")["pixel_values"]
        return {"input_ids": text["input_ids"], "attention_mask": text["attention_mask"], "pixel_values": pixels,
                "prompt_mask": text["attention_mask"]}


class _EosTokenizer:
    """Appends the end-of-text token that CLIP's text model pools at (our BPE adds none): `end_id`, the text
    config's `eos_token_id` (tiny towers: the world tokenizer's <|endoftext|>, id 0; not its end-of-turn id 2, with
    which transformers pools at the highest token id instead, see zoo.policy.flux.tiny_tokenizer)."""

    def __init__(self, tokenizer, end_id: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.end_id = tokenizer.eos_token_id if end_id is None else end_id

    def __call__(self, texts, **kwargs):
        kwargs = {**kwargs, "add_special_tokens": False}
        max_length = kwargs.pop("max_length", None)
        kwargs.pop("truncation", None)
        eos = self.end_id
        ids = [self.tokenizer.encode(t, add_special_tokens=False) + [eos] for t in texts]
        if max_length is not None:
            ids = [i[: max_length - 1] + [eos] if len(i) > max_length else i for i in ids]
        if kwargs.get("return_tensors") != "pt":
            return {"input_ids": ids}
        width = max(map(len, ids))
        input_ids = torch.full((len(ids), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)], mask[row, : len(seq)] = torch.tensor(seq), 1
        return {"input_ids": input_ids, "attention_mask": mask}

    def save_pretrained(self, folder) -> None:
        self.tokenizer.save_pretrained(folder)


@register_backbone
class CLIPBackbone(RewardBackbone):
    """A CLIP-style dual encoder whose pooled vector is normalised(image) * normalised(text).

    A linear head with all weights equal to the logit scale then gives CLIP's own similarity
    score; other heads learn from the same elementwise product.

    Args:
        pretrained: local path or hub id of a CLIP checkpoint; None builds `tiny`.
        tiny: sizes of the tiny model.
        max_prompt_tokens: the text model's limit (77 for CLIP); longer prompts are truncated and counted.
        trust_remote_code: off by default.
        tokenizer_path, image_processor_path: saved ones (a scorer folder) instead of the checkpoint's.
    """

    unused_by_reward = ("model.logit_scale",)
    untrained_names: ClassVar[tuple[str, ...]] = ("clip",)
    lora_targets: ClassVar[str] = r".*(q_proj|k_proj|v_proj|out_proj|fc1|fc2)"
    settings_fields: ClassVar[dict[str, Field]] = {"max_prompt_tokens": integer(1, 1 << 16)}

    def __init__(self, pretrained: str | None = None, tiny: TinyCLIP | None = None, max_prompt_tokens: int = 77,
                 trust_remote_code: bool = False, tokenizer_path: str | None = None,
                 image_processor_path: str | None = None) -> None:
        super().__init__()
        self.init_kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.pretrained, self.reward_token, self.weights = pretrained, None, None
        if pretrained is None:
            tiny = tiny or TinyCLIP()
            base = build_world_tokenizer(tiny.vocab_size)
            tokenizer = _EosTokenizer(base, base.convert_tokens_to_ids(CLIP_END))
            config = transformers.CLIPConfig(
                text_config=dict(vocab_size=len(base), hidden_size=tiny.hidden_size, intermediate_size=2 * tiny.hidden_size,
                                 num_hidden_layers=tiny.layers, num_attention_heads=tiny.heads,
                                 max_position_embeddings=max_prompt_tokens, eos_token_id=tokenizer.end_id,
                                 pad_token_id=base.pad_token_id, bos_token_id=base.pad_token_id),
                vision_config=dict(image_size=tiny.image_size, patch_size=tiny.patch_size,
                                   hidden_size=tiny.vision_hidden_size, intermediate_size=2 * tiny.vision_hidden_size,
                                   num_hidden_layers=tiny.vision_layers, num_attention_heads=tiny.heads),
                projection_dim=tiny.projection_dim)
            self.model = transformers.CLIPModel(config)
            processor = transformers.CLIPImageProcessorPil(
                size={"shortest_edge": tiny.image_size}, crop_size={"height": tiny.image_size, "width": tiny.image_size},
                image_mean=[1.0] * 3, image_std=[0.5] * 3)
        else:
            tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_path or pretrained,
                                                                   trust_remote_code=trust_remote_code)
            self.model = transformers.CLIPModel.from_pretrained(pretrained)
            end_id = self.model.config.text_config.eos_token_id
            if getattr(tokenizer, "eos_token_id", None) is not None and tokenizer("x")["input_ids"][-1:] != [end_id]:
                tokenizer = _EosTokenizer(tokenizer, end_id)  # our offline BPE, saved in a scorer folder
            processor = transformers.AutoImageProcessor.from_pretrained(image_processor_path or pretrained,
                                                                        trust_remote_code=trust_remote_code)
        self.inputs = CLIPInputs(tokenizer, processor, max_prompt_tokens)
        self.tiny = asdict(tiny) if pretrained is None else None

    @property
    def hidden_size(self) -> int:
        """Width of the pooled vector (the projection dimension)."""
        return self.model.config.projection_dim

    def vision_tower(self) -> nn.Module:
        """The image tower."""
        return self.model.vision_model

    def settings(self) -> dict[str, Any]:
        """scorer.json's backbone settings: the prompt limit."""
        return {"max_prompt_tokens": self.inputs.max_prompt_tokens}

    @classmethod
    def untrained(cls, name: str) -> "CLIPBackbone":
        """A tiny CLIP with the default sizes."""
        return cls()

    def head_init(self) -> float | None:
        """CLIP's own logit scale: a linear head starts as CLIP's similarity score."""
        return float(self.model.logit_scale.detach().exp())

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """normalised(image embedding) * normalised(text embedding), one row per pair."""
        image = self.model.get_image_features(pixel_values=batch["pixel_values"])
        text = self.model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        image = getattr(image, "pooler_output", image)
        text = getattr(text, "pooler_output", text)
        return nn.functional.normalize(image, dim=-1) * nn.functional.normalize(text, dim=-1)

    def caption_loss(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        """CLIP's own symmetric contrastive loss over the (image, caption) pairs of a batch (pretraining)."""
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         pixel_values=batch["pixel_values"])
        target = torch.arange(out.logits_per_image.shape[0], device=out.logits_per_image.device)
        return (nn.functional.cross_entropy(out.logits_per_image, target)
                + nn.functional.cross_entropy(out.logits_per_text, target)) / 2

    def decoder_layers(self) -> list[nn.Module]:
        """Transformer blocks of both towers (units for FSDP2 and checkpointing)."""
        return list(self.model.text_model.encoder.layers) + list(self.model.vision_model.encoder.layers)

    def fsdp_roots(self) -> list[nn.Module]:
        """Modules whose forward is called (the towers and projections), sharded after the blocks."""
        m = self.model
        return [m.vision_model, m.text_model, m.visual_projection, m.text_projection, m]
