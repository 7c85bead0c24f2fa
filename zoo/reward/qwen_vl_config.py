"""Qwen-VL model configs: tiny ones from `TinyQwenVL` sizes, and real-size architectures (random weights), with the
special-token ids of the tokenizer they run with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import transformers

FAMILIES = {  # family -> (config class, model class)
    "qwen2_vl": ("Qwen2VLConfig", "Qwen2VLForConditionalGeneration"),
    "qwen2_5_vl": ("Qwen2_5_VLConfig", "Qwen2_5_VLForConditionalGeneration"),
    "qwen3_vl": ("Qwen3VLConfig", "Qwen3VLForConditionalGeneration"),
}


@dataclass
class TinyQwenVL:
    """Sizes of a tiny Qwen-VL built from a config (random weights, offline tokenizer).

    `coord_channels` appends x/y coordinate planes to every patch (vision in_channels 5): absolute
    position for a model that has never seen an image (see the README on the embedded default).
    """

    image_size: int = 64
    patch_size: int = 8
    hidden_size: int = 128
    layers: int = 3
    heads: int = 4
    kv_heads: int = 2
    vision_hidden_size: int = 64
    vision_layers: int = 2
    vision_heads: int = 4
    coord_channels: bool = True
    vocab_size: int = 512
    initializer_range: float = 0.1  # 0.02 (the HF default) learns far slower from scratch at this size


def _cls(name: str) -> type:
    return getattr(transformers, name)


def tiny_config(family: str, tiny: TinyQwenVL, tokenizer) -> Any:
    """A tiny config of `family` whose special-token ids are the tokenizer's."""
    if family not in FAMILIES:
        raise ValueError(f"unknown Qwen-VL family {family!r}; expected one of {sorted(FAMILIES)}")
    ids = {n: tokenizer.convert_tokens_to_ids(f"<|{n}|>") for n in ("image_pad", "video_pad", "vision_start", "vision_end")}
    head_dim = tiny.hidden_size // tiny.heads
    rope_half = head_dim // 2  # sum(mrope_section) must equal head_dim / 2
    section = [rope_half - 2 * (rope_half // 3), rope_half // 3, rope_half // 3]
    text = dict(vocab_size=len(tokenizer), hidden_size=tiny.hidden_size, intermediate_size=2 * tiny.hidden_size,
                num_hidden_layers=tiny.layers, num_attention_heads=tiny.heads, num_key_value_heads=tiny.kv_heads,
                max_position_embeddings=2048, pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section})
    channels = 5 if tiny.coord_channels else 3
    if family == "qwen2_vl":
        vision = dict(depth=tiny.vision_layers, embed_dim=tiny.vision_hidden_size, hidden_size=tiny.hidden_size,
                      mlp_ratio=2, num_heads=tiny.vision_heads, in_channels=channels, patch_size=tiny.patch_size)
    else:
        vision = dict(depth=tiny.vision_layers, hidden_size=tiny.vision_hidden_size,
                      intermediate_size=2 * tiny.vision_hidden_size, num_heads=tiny.vision_heads, in_channels=channels,
                      patch_size=tiny.patch_size, out_hidden_size=tiny.hidden_size)
        if family == "qwen2_5_vl":
            vision.update(window_size=tiny.image_size, fullatt_block_indexes=[tiny.vision_layers - 1])
        else:
            grid = tiny.image_size // tiny.patch_size
            text.update(head_dim=head_dim)
            vision.update(num_position_embeddings=grid * grid, deepstack_visual_indexes=[])
    text["initializer_range"] = vision["initializer_range"] = tiny.initializer_range
    config_cls = _cls(FAMILIES[family][0])
    config = config_cls(text_config=text, vision_config=vision, image_token_id=ids["image_pad"],
                        video_token_id=ids["video_pad"], vision_start_token_id=ids["vision_start"],
                        vision_end_token_id=ids["vision_end"])
    config.initializer_range = tiny.initializer_range
    return config


# Qwen2.5-VL-7B-Instruct's own config values (the checkpoint's config.json); the token ids come from the tokenizer
QWEN2_5_VL_7B = {
    "text": dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                 num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=128000, rms_norm_eps=1e-6,
                 hidden_act="silu", tie_word_embeddings=False, initializer_range=0.02,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]}),
    "vision": dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, in_channels=3, patch_size=14,
                   spatial_merge_size=2, temporal_patch_size=2, window_size=112, out_hidden_size=3584,
                   fullatt_block_indexes=[7, 15, 23, 31], tokens_per_second=2, hidden_act="silu",
                   initializer_range=0.02),
}
ARCHITECTURES = {"qwen2_5_vl_7b": ("qwen2_5_vl", QWEN2_5_VL_7B)}


def architecture_config(name: str, tokenizer) -> Any:
    """A real-size config (`ARCHITECTURES`) whose special-token ids are the tokenizer's (random weights)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}")
    family, sizes = ARCHITECTURES[name]
    ids = {n: tokenizer.convert_tokens_to_ids(f"<|{n}|>") for n in ("image_pad", "video_pad", "vision_start", "vision_end")}
    text = dict(sizes["text"], pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id)
    config = _cls(FAMILIES[family][0])(text_config=text, vision_config=dict(sizes["vision"]),
                                       image_token_id=ids["image_pad"], video_token_id=ids["video_pad"],
                                       vision_start_token_id=ids["vision_start"], vision_end_token_id=ids["vision_end"],
                                       tie_word_embeddings=False)
    config.initializer_range = 0.02
    return config
