"""Qwen-VL reward backbones (Qwen2-VL, Qwen2.5-VL, Qwen3-VL): from a checkpoint, or tiny from a config.

`QwenVLInputs` turns (prompt, image) lists into model inputs (picklable, runs in DataLoader
workers); `QwenVLBackbone` runs the model and pools one vector per sequence for a reward head.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, Sequence

import torch
import transformers
from PIL import Image
from torch import nn

from zoo.reward.backbones import RewardBackbone, load_tokenizer, register_backbone
from zoo.reward.qwen_vl_config import (ARCHITECTURES, FAMILIES, QWEN2_5_VL_7B, TinyQwenVL, _cls,  # noqa: F401
                                       architecture_config, tiny_config)
from zoo.dist.weights import WeightFiles, build_on_meta, local_checkpoint
from zoo.reward.tensor_images import qwen_pixels
from zoo.settings import Field, integer, one_of, text
from zoo.world.tokenizer import build_world_tokenizer

log = logging.getLogger(__name__)

POOLINGS = ("special", "last", "mean")
REAL_TEMPLATE = ("<|im_start|>user\n{image}Does the image follow every spatial relation in this description? "
                 "{prompt}<|im_end|>\n<|im_start|>assistant\n")
TINY_TEMPLATE = "{image}{prompt}"
# checkpoint names (Qwen-VL checkpoints saved before transformers 4.52) -> this transformers' module names
QWEN_VL_RENAMES = ((r"^visual", "model.visual"), (r"^model(?!\.(language_model|visual))", "model.language_model"))


def _template(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.count("{image}") == 1 and value.count("{prompt}") == 1)


def add_coordinate_planes(pixel_values: torch.Tensor, grid_thw: torch.Tensor, patch: int, merge: int,
                          temporal: int) -> torch.Tensor:
    """Append x and y planes in [-1, 1] to flattened Qwen patches (processor order), 3 -> 5 channels."""
    chunks, start = [], 0
    for t, h, w in grid_thw.tolist():
        n = t * h * w
        bh, bw, i, j = torch.meshgrid(torch.arange(h // merge), torch.arange(w // merge), torch.arange(merge),
                                      torch.arange(merge), indexing="ij")
        rows, cols = (bh * merge + i).flatten().float(), (bw * merge + j).flatten().float()
        pix = torch.arange(patch).float() + 0.5
        ys = (rows[:, None] * patch + pix) / (h * patch) * 2 - 1
        xs = (cols[:, None] * patch + pix) / (w * patch) * 2 - 1
        planes = torch.stack([xs[:, None, :].expand(-1, patch, -1), ys[:, :, None].expand(-1, -1, patch)], 1)
        planes = planes[:, :, None].expand(-1, -1, temporal, -1, -1).repeat(t, 1, 1, 1, 1)
        rgb = pixel_values[start:start + n].view(n, 3, -1)
        chunks.append(torch.cat([rgb, planes.reshape(n, 2, -1).to(rgb.dtype)], 1).view(n, -1))
        start += n
    return torch.cat(chunks)


@dataclass
class QwenVLInputs:
    """(prompt, image) lists -> input tensors: template filled at the token level, prompts truncated
    to `max_prompt_tokens` (counted in `truncated`), `mm_token_type_ids` kept for M-RoPE."""

    tokenizer: Any
    image_processor: Any
    template: str = TINY_TEMPLATE
    pooling: Literal["special", "last", "mean"] = "special"
    reward_token: str = "<|Reward|>"
    max_prompt_tokens: int = 256
    coord_channels: bool = False
    truncated: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not isinstance(self.max_prompt_tokens, int) or self.max_prompt_tokens < 1:
            raise ValueError(f"max_prompt_tokens must be an integer >= 1, got {self.max_prompt_tokens!r}")
        pieces = re.split(r"(\{image\}|\{prompt\})", self.template)
        if pieces.count("{image}") != 1 or pieces.count("{prompt}") != 1:
            raise ValueError(f"template must contain {{image}} and {{prompt}} once each: {self.template!r}")
        self._pieces = [p if p in ("{image}", "{prompt}") else self.tokenizer.encode(p, add_special_tokens=False)
                        for p in pieces if p]
        tok = self.tokenizer
        self.image_token_id = tok.convert_tokens_to_ids("<|image_pad|>")
        self._vision = (tok.convert_tokens_to_ids("<|vision_start|>"), tok.convert_tokens_to_ids("<|vision_end|>"))
        self._reward_id = tok.convert_tokens_to_ids(self.reward_token) if self.pooling == "special" else None
        if self._reward_id is not None and self._reward_id == tok.unk_token_id:
            raise ValueError(f"reward token {self.reward_token!r} is not in the tokenizer")

    def prompt_ids(self, prompt: str) -> list[int]:
        """Token ids of one prompt, truncated (with a warning) to `max_prompt_tokens`."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f"empty or non-text prompt: {prompt!r}")
        ids = self.tokenizer.encode(prompt, add_special_tokens=False)
        if len(ids) > self.max_prompt_tokens:
            self.truncated += 1
            log.warning("prompt of %d tokens truncated to %d (%d so far): %.60r...", len(ids),
                        self.max_prompt_tokens, self.truncated, prompt)
            ids = ids[: self.max_prompt_tokens]
        return ids

    def __call__(self, prompts: Sequence[str], images: Sequence[Image.Image] | torch.Tensor) -> dict[str, torch.Tensor]:
        """Input tensors for (prompt, image) pairs; images are PIL images, or a (B, 3, H, W) tensor in [0, 1]
        preprocessed as a batch where it lies (`zoo.reward.tensor_images`)."""
        if len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts but {len(images)} images")
        if isinstance(images, torch.Tensor):
            pixels, grid = qwen_pixels(images, self.image_processor)
        else:
            vision = self.image_processor(images=[im.convert("RGB") for im in images], return_tensors="pt")
            grid, pixels = vision["image_grid_thw"], vision["pixel_values"]
        merge = self.image_processor.merge_size
        if self.coord_channels:
            pixels = add_coordinate_planes(pixels, grid, self.image_processor.patch_size, merge,
                                           self.image_processor.temporal_patch_size)
        text = self.texts(prompts, [int(g.prod()) // (merge * merge) for g in grid])
        return {**text, "pixel_values": pixels, "image_grid_thw": grid}

    def texts(self, prompts: Sequence[str], image_tokens: Sequence[int]) -> dict[str, torch.Tensor]:
        """input_ids (the template filled: each image as its markers around `image_tokens` image tokens, the prompt,
        the reward token), right-padded, with attention_mask, prompt_mask and mm_token_type_ids."""
        sequences, spans = [], []
        for prompt, n_image in zip(prompts, image_tokens):
            seq: list[int] = []
            for piece in self._pieces:
                if piece == "{image}":
                    seq += [self._vision[0]] + [self.image_token_id] * n_image + [self._vision[1]]
                elif piece == "{prompt}":
                    ids = self.prompt_ids(prompt)
                    spans.append((len(seq), len(seq) + len(ids)))
                    seq += ids
                else:
                    seq += piece
            sequences.append(seq + ([self._reward_id] if self._reward_id is not None else []))
        width = max(map(len, sequences))
        input_ids = torch.full((len(sequences), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        prompt_mask = torch.zeros_like(input_ids)
        for row, (seq, (start, stop)) in enumerate(zip(sequences, spans)):  # right padding
            input_ids[row, : len(seq)] = torch.tensor(seq)
            attention[row, : len(seq)] = 1
            prompt_mask[row, start:stop] = 1
        return {"input_ids": input_ids, "attention_mask": attention, "prompt_mask": prompt_mask,
                "mm_token_type_ids": (input_ids == self.image_token_id).int()}


def _image_processor(saved: str | None, pretrained: str, min_pixels: int, max_pixels: int, trust: bool):
    """A saved processor as it was; a checkpoint's own with the pixel limits applied."""
    if saved is not None:
        return transformers.AutoImageProcessor.from_pretrained(saved, trust_remote_code=trust)
    return transformers.AutoImageProcessor.from_pretrained(pretrained, min_pixels=min_pixels, max_pixels=max_pixels,
                                                           trust_remote_code=trust)


@register_backbone
class QwenVLBackbone(RewardBackbone):
    """A Qwen-VL model that embeds (image, prompt) into one vector for a reward head.

    Args:
        family: "qwen2_5_vl" (default), "qwen2_vl" or "qwen3_vl".
        pretrained: local path or hub id for `from_pretrained`; None builds `tiny`.
        tiny: sizes of the tiny model (used when `pretrained` is None).
        template: text around the image and prompt, with {image} and {prompt} once each.
        pooling: "special" (an added reward token, read at its position), "last" or "mean" (text tokens).
        reward_token: the added special token for "special" pooling.
        max_prompt_tokens: longer prompts are truncated with a warning and counted.
        min_pixels, max_pixels: image processor limits for real checkpoints (HPSv3: 256 * 28 * 28).
        dtype: weights dtype for real checkpoints ("bfloat16" on GPUs).
        trust_remote_code: off by default; only for checkpoints you trust.
        tokenizer_path, image_processor_path: saved ones (a scorer folder) instead of the checkpoint's.
        architecture: with no `pretrained`, a real-size architecture with random weights ("qwen2_5_vl_7b"; the
            offline tokenizer, the real patch and merge sizes), e.g. for benchmarks.
        init_device: "meta" builds the weights as shapes only; `materialize` (called after FSDP2 sharding) then
            allocates each rank's shards and fills them from `pretrained`'s safetensors, or randomly.
    """

    tensor_images = True  # QwenVLInputs preprocesses a tensor batch on its device

    unused_by_reward = ("model.lm_head.",)
    checkpoint_renames = QWEN_VL_RENAMES
    untrained_names: ClassVar[tuple[str, ...]] = tuple(FAMILIES)
    settings_fields: ClassVar[dict[str, Field]] = {
        "family": one_of(*FAMILIES), "pooling": one_of(*POOLINGS),
        "template": Field(_template, "null or text with {image} and {prompt} once each"),
        "reward_token": text(), "max_prompt_tokens": integer(1, 1 << 16)}

    def __init__(self, family: Literal["qwen2_5_vl", "qwen2_vl", "qwen3_vl"] = "qwen2_5_vl",
                 pretrained: str | None = None, tiny: TinyQwenVL | None = None,
                 template: str | None = None,
                 pooling: Literal["special", "last", "mean"] = "special", reward_token: str = "<|Reward|>",
                 max_prompt_tokens: int = 256, min_pixels: int = 64 * 28 * 28, max_pixels: int = 256 * 28 * 28,
                 dtype: str = "float32", trust_remote_code: bool = False, tokenizer_path: str | None = None,
                 image_processor_path: str | None = None, architecture: str | None = None,
                 init_device: str | None = None) -> None:
        super().__init__()
        self.init_kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.family, self.pooling, self.pretrained = family, pooling, pretrained
        extra = (reward_token,) if pooling == "special" else ()
        self.weights: WeightFiles | None = None  # pretrained safetensors to fill a meta-built model from
        build = (lambda f: build_on_meta(f)) if init_device == "meta" else (lambda f: f())  # noqa: E731
        if pretrained is None and architecture is not None:
            tokenizer = build_world_tokenizer(512, extra)
            config = architecture_config(architecture, tokenizer)
            family = ARCHITECTURES[architecture][0]
            self.family = family
            self.model = build(lambda: _cls(FAMILIES[family][1])(config)).to(getattr(torch, dtype))
            processor_cls = getattr(transformers, "Qwen2VLImageProcessorPil", None) or transformers.Qwen2VLImageProcessor
            processor = processor_cls(min_pixels=min_pixels, max_pixels=max_pixels, patch_size=14, temporal_patch_size=2,
                                      merge_size=2)
            template = template or REAL_TEMPLATE
        elif pretrained is None:
            tiny = tiny or TinyQwenVL()
            tokenizer = build_world_tokenizer(tiny.vocab_size, extra)
            self.model = build(lambda: _cls(FAMILIES[family][1])(tiny_config(family, tiny, tokenizer)))
            processor = transformers.Qwen2VLImageProcessorPil(
                min_pixels=tiny.image_size**2, max_pixels=tiny.image_size**2, patch_size=tiny.patch_size,
                temporal_patch_size=2, merge_size=2, image_mean=[1.0] * 3, image_std=[0.5] * 3)  # white -> 0
            template = template or TINY_TEMPLATE
        elif init_device == "meta":  # shapes now, this rank's shards of the checkpoint later (materialize)
            tokenizer = load_tokenizer(tokenizer_path or pretrained, extra, trust_remote_code)
            processor = _image_processor(image_processor_path, pretrained, min_pixels, max_pixels, trust_remote_code)
            config = transformers.AutoConfig.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
            self.model = build_on_meta(lambda: transformers.AutoModelForImageTextToText.from_config(
                config, trust_remote_code=trust_remote_code), getattr(torch, dtype))
            self.weights = WeightFiles(local_checkpoint(pretrained, ["*.safetensors", "*.json"]), QWEN_VL_RENAMES)
            template = template or REAL_TEMPLATE
        else:
            tokenizer = load_tokenizer(tokenizer_path or pretrained, extra, trust_remote_code)
            processor = _image_processor(image_processor_path, pretrained, min_pixels, max_pixels, trust_remote_code)
            self.model = transformers.AutoModelForImageTextToText.from_pretrained(
                pretrained, dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code)
            if len(tokenizer) > self.model.get_input_embeddings().weight.shape[0]:
                self.model.resize_token_embeddings(len(tokenizer))
            template = template or REAL_TEMPLATE
        coords = getattr(self.model.config.vision_config, "in_channels", 3) == 5
        self.inputs = QwenVLInputs(tokenizer, processor, template, pooling, reward_token, max_prompt_tokens, coords)
        self.attach_reward_token(self.inputs._reward_id)
        self.tiny = asdict(tiny) if pretrained is None and architecture is None else None

    @property
    def hidden_size(self) -> int:
        """Width of the pooled vector."""
        return self.model.config.text_config.hidden_size

    def vision_tower(self) -> nn.Module:
        """The vision tower with its merger."""
        return self.model.model.visual

    def settings(self) -> dict[str, Any]:
        """scorer.json's backbone settings: family, pooling, template, reward token, prompt limit."""
        inputs = self.inputs
        return {"family": self.family, "pooling": inputs.pooling, "template": inputs.template,
                "reward_token": inputs.reward_token, "max_prompt_tokens": inputs.max_prompt_tokens}

    @classmethod
    def untrained(cls, name: str) -> "QwenVLBackbone":
        """A tiny Qwen-VL of family `name` with the default sizes."""
        return cls(family=name)

    @property
    def reward_token_id(self) -> int | None:
        """Id of the added reward token, if any."""
        return self.inputs._reward_id

    def _model_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        keys = ("input_ids", "attention_mask", "pixel_values", "image_grid_thw", "mm_token_type_ids")
        return {k: batch[k] for k in keys}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Pooled hidden states, one row per sequence."""
        hidden = self.model.model(**self._model_inputs(batch), use_cache=False).last_hidden_state  # no KV cache:
        # it is never reused, and a checkpointed block's recompute would append to it a second time
        mask = batch["attention_mask"]
        if self.pooling == "mean":  # text tokens: not image, not the vision markers, not padding
            ids = batch["input_ids"]
            text = mask.bool() & (batch["mm_token_type_ids"] == 0)
            text &= (ids != self.inputs._vision[0]) & (ids != self.inputs._vision[1])
            text = text.unsqueeze(-1).to(hidden.dtype)
            return (hidden * text).sum(1) / text.sum(1).clamp(min=1)
        last = mask.sum(1) - 1
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]

    def caption_loss(self, batch: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        """Language-model loss with the model's own head (caption pretraining / fine-tuning)."""
        return self.model(**self._model_inputs(batch), labels=labels, use_cache=False).loss

    def decoder_layers(self) -> list[nn.Module]:
        """Transformer blocks of the language model and the vision tower (units for FSDP2 and checkpointing)."""
        inner = self.model.model
        return list(inner.language_model.layers) + list(inner.visual.blocks)

    def fsdp_roots(self) -> list[nn.Module]:
        """Modules whose forward is called, sharded after the blocks: the reward token, the inner model
        (scoring calls it directly), then the whole model (the LM head, for caption losses)."""
        token = [self.reward_token] if self.reward_token is not None else []
        return token + [self.model.model, self.model]
