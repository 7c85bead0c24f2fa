"""Record schemas of pair and prompt shards, with decoding that names what is wrong."""

from __future__ import annotations

import json
from typing import Any

from PIL import Image

from zoo.data.images import ImageError, read_image
from zoo.settings import parse_json

IMAGE_EXTS = ("png", "jpg", "jpeg", "webp")
PAIR_IMAGES = ("chosen", "rejected")
WORLD_PAIR_KEYS = ("prompt", "perturbed_prompt", "n_perturbations", "perturbations", "objects", "relations",
                   "chosen_boxes", "rejected_boxes", "seed", "world")
PROMPT_KEYS = ("prompt",)


class RecordError(ValueError):
    """A sample that cannot be used: missing key, undecodable image or JSON, bad field."""


def check_text(value: Any, what: str = "prompt") -> str:
    """`value` when it is non-empty text that tokenizers can encode (UTF-8: no lone surrogates); else ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"missing or empty {what}")
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} is not valid Unicode ({err.reason} at character {err.start})") from None
    return value


def decode_json(raw: bytes | None, required: tuple[str, ...] = ("prompt",)) -> dict[str, Any]:
    """Parse a record's `json` member and check the required fields."""
    if raw is None:
        raise RecordError("missing key 'json'")
    try:
        meta = parse_json(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f"bad JSON in 'json': {err}") from err
    if not isinstance(meta, dict):
        raise RecordError(f"'json' must hold an object, got {type(meta).__name__}")
    missing = [k for k in required if k not in meta]
    if missing:
        raise RecordError(f"'json' lacks {missing}")
    try:
        check_text(meta["prompt"], "prompt in 'json'")
    except ValueError as err:
        raise RecordError(str(err)) from None
    return meta


def decode_image(raw: bytes, name: str) -> Image.Image:
    """Decode image bytes into an RGB PIL image with `zoo.data.images.read_image` (limits, EXIF, 16-bit, alpha)."""
    try:
        return read_image(raw, name)
    except ImageError as err:
        raise RecordError(f"bad image in {name!r}: {err}") from err


def image_member(sample: dict[str, Any], stem: str) -> tuple[str, bytes]:
    """The (member name, bytes) of an image member such as 'chosen.png' or 'chosen.jpg'."""
    for ext in IMAGE_EXTS:
        name = f"{stem}.{ext}"
        if name in sample:
            return name, sample[name]
    raise RecordError(f"missing key '{stem}.png' (or .jpg/.webp)")


def decode_pair(sample: dict[str, Any]) -> dict[str, Any]:
    """A pair record: {key, prompt, chosen, rejected (PIL), n_perturbations, meta}."""
    meta = decode_json(sample.get("json"))
    images = {stem: decode_image(raw, name) for stem in PAIR_IMAGES for name, raw in [image_member(sample, stem)]}
    n_pert = meta.get("n_perturbations", 0)
    if not isinstance(n_pert, int) or n_pert < 0:
        raise RecordError(f"'n_perturbations' must be a non-negative integer, got {n_pert!r}")
    return {"key": sample["__key__"], "prompt": meta["prompt"], **images, "n_perturbations": n_pert, "meta": meta}


def decode_prompt(sample: dict[str, Any]) -> dict[str, Any]:
    """A prompt record: {key, prompt, meta}."""
    meta = decode_json(sample.get("json"), PROMPT_KEYS)
    return {"key": sample["__key__"], "prompt": meta["prompt"], "meta": meta}


def validate_world_pair(meta: dict[str, Any]) -> None:
    """Check that a pair record carries every field world.md requires."""
    missing = [k for k in WORLD_PAIR_KEYS if k not in meta]
    if missing:
        raise RecordError(f"world pair record lacks {missing}")
