"""What scorer.json may hold: the keys `export_scorer` writes, each type- and range-checked on load."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from zoo.data.limits import max_image_pixels
from zoo.reward.backbones import discover
from zoo.reward.model import HEADS
from zoo.settings import Field, SettingsError, integer, number, of_type, one_of, read_json, text, validate

FORMAT = "zoo-scorer/2"  # LoRA adapter in peft's format under adapter/ (zoo.reward.scorer_adapter)
FORMAT_V1 = "zoo-scorer/1"  # still read: LoRA adapter in adapter.safetensors, its config in scorer.json 'lora'


def _targets(value: Any) -> bool:
    return value is None or isinstance(value, str) or \
        (isinstance(value, list) and all(isinstance(t, str) for t in value))


TOP = {"format": one_of(FORMAT, FORMAT_V1), "backbone": of_type(dict, "an object"), "head": one_of(*sorted(HEADS)),
       "weights": one_of("full", "adapter"), "lora": of_type((dict, type(None)), "an object or null", required=False),
       "extra": of_type(dict, "an object", required=False)}


def backbone_fields(kind: str) -> dict[str, Field]:
    """The keys scorer.json's "backbone" object may hold for the registered backbone class `kind`."""
    return {"class": one_of(kind), **discover()[kind].settings_fields, "pretrained": text(True)}


LORA = {"r": integer(1, 4096), "alpha": number(1e-6, 1e6),
        "targets": Field(_targets, "a regex, a list of names or null")}


def _fields(value: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs of a size setting: a dict, or transformers' SizeDict dataclass."""
    if value is None:
        return []
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return list(value.items()) if isinstance(value, dict) else [("", value)]


def check_processor(processor: Any, where: str) -> None:
    """A loaded image processor's sizes (size, crop_size, min/max_pixels) must be positive and within the project's
    pixel limit: a folder must not make every image be resized to billions of pixels."""
    limit = max_image_pixels()
    values = {f"{name}.{k}": v for name in ("size", "crop_size") for k, v in _fields(getattr(processor, name, None))}
    values |= {k: getattr(processor, k, None) for k in ("min_pixels", "max_pixels")}
    for key, value in values.items():
        if value is not None and not (isinstance(value, (int, float)) and 1 <= value <= limit):
            raise SettingsError(f"{where}: {key!r} must be a number in [1, {limit}] (ZOO_MAX_IMAGE_PIXELS), "
                                f"got {value!r}")


def read_scorer_settings(path: Path) -> dict[str, Any]:
    """scorer.json, validated: unknown keys (`trust_remote_code` among them), wrong types and ranges are refused."""
    meta = validate(read_json(path), TOP, str(path))
    kind = meta["backbone"].get("class")
    if kind not in discover():
        raise SettingsError(f"{path}: backbone 'class' must be one of {sorted(discover())}, got {kind!r}")
    validate(meta["backbone"], backbone_fields(kind), f"{path} (backbone)")
    if meta["weights"] == "adapter" and meta["format"] == FORMAT_V1:
        validate(meta.get("lora"), LORA, f"{path} (lora)")
    elif meta.get("lora") is not None:
        raise SettingsError(f"{path}: 'lora' must be null in {meta['format']} (the adapter's own "
                            "adapter/adapter_config.json holds its settings)")
        if meta["backbone"]["pretrained"] is None:
            raise SettingsError(f"{path}: an adapter scorer must name its base checkpoint in backbone 'pretrained'")
    return meta
