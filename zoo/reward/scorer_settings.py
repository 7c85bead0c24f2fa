"""What scorer.json may hold: the keys `export_scorer` writes, each type- and range-checked on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.reward.model import HEADS
from zoo.reward.qwen_vl import FAMILIES, POOLINGS
from zoo.settings import Field, SettingsError, integer, number, of_type, one_of, read_json, text, validate

FORMAT = "zoo-scorer/1"


def _template(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.count("{image}") == 1 and value.count("{prompt}") == 1)


def _targets(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(t, str) for t in value))


TOP = {"format": one_of(FORMAT), "backbone": of_type(dict, "an object"), "head": one_of(*sorted(HEADS)),
       "weights": one_of("full", "adapter"), "lora": of_type((dict, type(None)), "an object or null"),
       "extra": of_type(dict, "an object", required=False)}
BACKBONES = {
    "QwenVLBackbone": {"class": one_of("QwenVLBackbone"), "family": one_of(*FAMILIES), "pooling": one_of(*POOLINGS),
                       "template": Field(_template, "null or text with {image} and {prompt} once each"),
                       "reward_token": text(), "max_prompt_tokens": integer(1, 1 << 16), "pretrained": text(True)},
    "CLIPBackbone": {"class": one_of("CLIPBackbone"), "max_prompt_tokens": integer(1, 1 << 16),
                     "pretrained": text(True)},
}
LORA = {"r": integer(1, 4096), "alpha": number(1e-6, 1e6), "targets": Field(_targets, "a regex, a list of names or null")}


def read_scorer_settings(path: Path) -> dict[str, Any]:
    """scorer.json, validated: unknown keys (`trust_remote_code` among them), wrong types and ranges are refused."""
    meta = validate(read_json(path), TOP, str(path))
    kind = meta["backbone"].get("class")
    if kind not in BACKBONES:
        raise SettingsError(f"{path}: backbone 'class' must be one of {sorted(BACKBONES)}, got {kind!r}")
    validate(meta["backbone"], BACKBONES[kind], f"{path} (backbone)")
    if meta["weights"] == "adapter":
        validate(meta["lora"], LORA, f"{path} (lora)")
        if meta["backbone"]["pretrained"] is None:
            raise SettingsError(f"{path}: an adapter scorer must name its base checkpoint in backbone 'pretrained'")
    return meta
