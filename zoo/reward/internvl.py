"""InternVL reward backbones (InternVL3 in transformers' own format, `InternVLForConditionalGeneration`): from a
checkpoint (e.g. OpenGVLab/InternVL3-8B-hf), tiny from a config with the offline world tokenizer, or at real size
with random weights (`architecture`), on the meta device if asked.

Each image is one tile (`crop_to_patches` off): its `image_seq_length` context tokens sit between <img> and </img>;
the vector for the reward head is pooled from the language model's last hidden states like Qwen-VL's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, Sequence

import torch
import transformers
from PIL import Image
from torch import nn

from zoo.dist.weights import WeightFiles, build_on_meta, local_checkpoint
from zoo.reward.backbones import RewardBackbone, load_tokenizer, register_backbone
from zoo.reward.qwen_vl import POOLINGS, QwenVLInputs, _template
from zoo.settings import Field, integer, one_of, text
from zoo.world.tokenizer import build_world_tokenizer

IMAGE_TOKENS = ("<img>", "</img>", "<IMG_CONTEXT>")  # start, end, context (InternVL's own)
REAL_TEMPLATE = ("<|im_start|>user\n{image}\nDoes the image follow every spatial relation in this description? "
                 "{prompt}<|im_end|>\n<|im_start|>assistant\n")
TINY_TEMPLATE = "{image}{prompt}"
# InternVL3-8B: Qwen2.5-7B language model + InternViT-300M (448 px tiles, patch 14, pixel shuffle 0.5 -> 256 tokens)
INTERNVL3_8B = {
    "text": dict(model_type="qwen2", vocab_size=151674, hidden_size=3584, intermediate_size=18944,
                 num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768,
                 rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=False, initializer_range=0.02,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
    "vision": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                   image_size=448, patch_size=14, attention_bias=True, norm_type="layer_norm",
                   layer_scale_init_value=0.1, initializer_range=0.02),
}
ARCHITECTURES = {"internvl3_8b": INTERNVL3_8B}


@dataclass
class TinyInternVL:
    """Sizes of a tiny InternVL built from a config (random weights, offline tokenizer)."""

    image_size: int = 64
    patch_size: int = 8
    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    vision_hidden_size: int = 64
    vision_layers: int = 2
    vision_heads: int = 4
    vocab_size: int = 512
    initializer_range: float = 0.1


def internvl_config(text_config: dict, vision_config: dict, tokenizer) -> Any:
    """An InternVL config whose image and special-token ids are the tokenizer's."""
    grid = vision_config["image_size"] // vision_config["patch_size"]
    text_config = dict(text_config, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.pad_token_id,
                       eos_token_id=tokenizer.eos_token_id)
    return transformers.InternVLConfig(text_config=text_config, vision_config=vision_config,
                                       image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKENS[2]),
                                       image_seq_length=grid * grid // 4, downsample_ratio=0.5,
                                       tie_word_embeddings=False)


def tiny_config(tiny: TinyInternVL, tokenizer) -> Any:
    """A tiny InternVL config (a Qwen2 language model, an InternViT vision tower)."""
    text = dict(model_type="qwen2", vocab_size=len(tokenizer), hidden_size=tiny.hidden_size,
                intermediate_size=2 * tiny.hidden_size, num_hidden_layers=tiny.layers,
                num_attention_heads=tiny.heads, num_key_value_heads=tiny.kv_heads, max_position_embeddings=2048,
                initializer_range=tiny.initializer_range)
    vision = dict(hidden_size=tiny.vision_hidden_size, num_hidden_layers=tiny.vision_layers,
                  num_attention_heads=tiny.vision_heads, intermediate_size=2 * tiny.vision_hidden_size,
                  image_size=tiny.image_size, patch_size=tiny.patch_size, initializer_range=tiny.initializer_range)
    config = internvl_config(text, vision, tokenizer)
    config.initializer_range = tiny.initializer_range
    return config


def _processor(size: int, mean: list[float] | None = None, std: list[float] | None = None):
    """GOT-OCR2's processor (InternVL's) resizing every image to one `size` x `size` tile."""
    extra = {} if mean is None else {"image_mean": mean, "image_std": std}
    return transformers.GotOcr2ImageProcessorPil(size={"height": size, "width": size}, crop_to_patches=False, **extra)


@dataclass
class InternVLInputs(QwenVLInputs):
    """(prompt, image) lists -> InternVL inputs: Qwen-VL's template, truncation and pooling rules, with each image
    as <img> + `image_seq_length` context tokens + </img> and its pixels as one tile."""

    image_seq_length: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        ids = [self.tokenizer.convert_tokens_to_ids(t) for t in IMAGE_TOKENS]
        if any(i in (None, self.tokenizer.unk_token_id) for i in ids):
            raise ValueError(f"the tokenizer lacks InternVL's image tokens {IMAGE_TOKENS}")
        self._vision, self.image_token_id = (ids[0], ids[1]), ids[2]

    def __call__(self, prompts: Sequence[str], images: Sequence[Image.Image]) -> dict[str, torch.Tensor]:
        """Input tensors for (prompt, image) pairs (PIL images)."""
        if len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts but {len(images)} images")
        pixels = self.image_processor(images=[im.convert("RGB") for im in images], return_tensors="pt")["pixel_values"]
        return {**self.texts(prompts, [self.image_seq_length] * len(prompts)), "pixel_values": pixels}


@register_backbone
class InternVLBackbone(RewardBackbone):
    """An InternVL model that embeds (image, prompt) into one vector for a reward head.

    Args:
        pretrained: local path or hub id of an InternVL checkpoint in transformers' format ("...-hf"); None builds
            `tiny` (or `architecture`).
        tiny: sizes of the tiny model.
        template: text around the image and prompt, with {image} and {prompt} once each.
        pooling: "special" (an added reward token, read at its position), "last" or "mean" (text tokens).
        reward_token: the added special token for "special" pooling.
        max_prompt_tokens: longer prompts are truncated with a warning and counted.
        dtype: weights dtype ("bfloat16" on GPUs).
        trust_remote_code: off by default.
        tokenizer_path, image_processor_path: saved ones (a scorer folder) instead of the checkpoint's.
        architecture: with no `pretrained`, a real-size architecture with random weights ("internvl3_8b").
        init_device: "meta" builds the weights as shapes only; `materialize` fills them after FSDP2 sharding.
    """

    unused_by_reward = ("model.lm_head.",)
    untrained_names: ClassVar[tuple[str, ...]] = ("internvl",)
    checkpoint_renames = ((r"^language_model\.lm_head", "lm_head"), (r"^language_model\.model\.", "model.language_model."),
                          (r"^vision_tower", "model.vision_tower"),
                          (r"^multi_modal_projector", "model.multi_modal_projector"))
    settings_fields: ClassVar[dict[str, Field]] = {
        "pooling": one_of(*POOLINGS), "template": Field(_template, "null or text with {image} and {prompt} once each"),
        "reward_token": text(), "max_prompt_tokens": integer(1, 1 << 16)}

    def __init__(self, pretrained: str | None = None, tiny: TinyInternVL | None = None, template: str | None = None,
                 pooling: Literal["special", "last", "mean"] = "special", reward_token: str = "<|Reward|>",
                 max_prompt_tokens: int = 256, dtype: str = "float32", trust_remote_code: bool = False,
                 tokenizer_path: str | None = None, image_processor_path: str | None = None,
                 architecture: str | None = None, init_device: str | None = None) -> None:
        super().__init__()
        self.init_kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.pretrained, self.pooling, self.weights = pretrained, pooling, None
        extra = IMAGE_TOKENS + ((reward_token,) if pooling == "special" else ())
        build = build_on_meta if init_device == "meta" else (lambda f, dtype=None: f())
        if pretrained is None:
            if architecture is not None and architecture not in ARCHITECTURES:
                raise ValueError(f"unknown architecture {architecture!r}; expected one of {sorted(ARCHITECTURES)}")
            tiny = None if architecture else (tiny or TinyInternVL())
            tokenizer = build_world_tokenizer(tiny.vocab_size if tiny else 512, extra)
            if tiny is None:
                sizes = ARCHITECTURES[architecture]
                config = internvl_config(sizes["text"], sizes["vision"], tokenizer)
                processor = _processor(sizes["vision"]["image_size"])
            else:
                config = tiny_config(tiny, tokenizer)
                processor = _processor(tiny.image_size, [1.0] * 3, [0.5] * 3)  # white -> 0
            self.model = build(lambda: transformers.InternVLForConditionalGeneration(config)).to(getattr(torch, dtype))
            template = template or (TINY_TEMPLATE if tiny else REAL_TEMPLATE)
        else:
            tokenizer = load_tokenizer(tokenizer_path or pretrained, extra, trust_remote_code)
            processor = transformers.AutoImageProcessor.from_pretrained(
                image_processor_path or pretrained, trust_remote_code=trust_remote_code,
                **({} if image_processor_path else {"crop_to_patches": False}))
            if init_device == "meta":  # shapes now, this rank's shards of the checkpoint later (materialize)
                config = transformers.AutoConfig.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
                self.model = build_on_meta(lambda: transformers.InternVLForConditionalGeneration(config),
                                           getattr(torch, dtype))
                self.weights = WeightFiles(local_checkpoint(pretrained, ["*.safetensors", "*.json"]),
                                           self.checkpoint_renames)
            else:
                self.model = transformers.InternVLForConditionalGeneration.from_pretrained(
                    pretrained, dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code)
                if len(tokenizer) > self.model.get_input_embeddings().weight.shape[0]:
                    self.model.resize_token_embeddings(len(tokenizer))
            template = template or REAL_TEMPLATE
        self.inputs = InternVLInputs(tokenizer, processor, template, pooling, reward_token, max_prompt_tokens,
                                     image_seq_length=self.model.config.image_seq_length)
        self.attach_reward_token(self.inputs._reward_id)
        self.tiny = asdict(tiny) if pretrained is None and tiny is not None else None

    @property
    def hidden_size(self) -> int:
        """Width of the pooled vector."""
        return self.model.config.text_config.hidden_size

    def _model_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: batch[k] for k in ("input_ids", "attention_mask", "pixel_values")}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Pooled hidden states, one row per sequence."""
        hidden = self.model.model(**self._model_inputs(batch), use_cache=False).last_hidden_state
        mask = batch["attention_mask"]
        if self.pooling == "mean":  # text tokens: not image, not the <img> </img> markers, not padding
            ids = batch["input_ids"]
            keep = mask.bool() & (batch["mm_token_type_ids"] == 0)
            keep &= (ids != self.inputs._vision[0]) & (ids != self.inputs._vision[1])
            keep = keep.unsqueeze(-1).to(hidden.dtype)
            return (hidden * keep).sum(1) / keep.sum(1).clamp(min=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), mask.sum(1) - 1]

    def caption_loss(self, batch: dict[str, torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        """Language-model loss with the model's own head (caption pretraining)."""
        return self.model(**self._model_inputs(batch), labels=labels, use_cache=False).loss

    def decoder_layers(self) -> list[nn.Module]:
        """Transformer blocks of the language model and the vision tower (units for FSDP2 and checkpointing)."""
        inner = self.model.model
        return list(inner.language_model.layers) + list(inner.vision_tower.encoder.layer)

    def fsdp_roots(self) -> list[nn.Module]:
        """The reward token, the inner model (scoring calls it), then the whole model (the LM head)."""
        token = [self.reward_token] if self.reward_token is not None else []
        return token + [self.model.model, self.model]

    def vision_tower(self) -> nn.Module:
        """The vision tower (its projector trains with the language model)."""
        return self.model.model.vision_tower

    def settings(self) -> dict[str, Any]:
        """scorer.json's backbone settings: pooling, template, reward token, prompt limit."""
        inputs = self.inputs
        return {"pooling": inputs.pooling, "template": inputs.template, "reward_token": inputs.reward_token,
                "max_prompt_tokens": inputs.max_prompt_tokens}

    @classmethod
    def untrained(cls, name: str) -> "InternVLBackbone":
        """A tiny InternVL with the default sizes."""
        return cls()
