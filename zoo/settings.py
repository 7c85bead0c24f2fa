"""Settings read from folders (scorer.json, construct stats, saved model configs): whitelisted keys, checked types and
ranges, and one clear error that names the file and the key. Nothing read from a folder can switch on
`trust_remote_code`: no schema here has that key."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


class SettingsError(ValueError):
    """A settings file with an unknown key, a missing key or a value of the wrong type or range."""


@dataclass(frozen=True)
class Field:
    """One allowed key: a check of its value and the words for what it must be."""

    ok: Callable[[Any], bool]
    want: str
    required: bool = True


def integer(low: int, high: int, required: bool = True) -> Field:
    """An int (not a bool) in [low, high]."""
    return Field(lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high,
                 f"an integer in [{low}, {high}]", required)


def number(low: float, high: float, required: bool = True) -> Field:
    """A finite int or float in [low, high]."""
    return Field(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                 and low <= v <= high, f"a number in [{low}, {high}]", required)


def one_of(*values: Any, required: bool = True) -> Field:
    """One of the given values."""
    return Field(lambda v: v in values, f"one of {list(values)}", required)


def text(optional: bool = False, required: bool = True, max_length: int = 4096) -> Field:
    """A string (or None when optional)."""
    return Field(lambda v: (optional and v is None) or (isinstance(v, str) and len(v) <= max_length),
                 "text" + (" or null" if optional else ""), required)


def of_type(kind: type | tuple[type, ...], want: str, required: bool = True) -> Field:
    """Any value of these types."""
    return Field(lambda v: isinstance(v, kind), want, required)


def validate(data: Any, fields: dict[str, Field], where: str) -> dict[str, Any]:
    """`data` when it is an object with only these keys, each valid, and every required one present."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: must hold a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(fields))})")
    for key, spec in fields.items():
        if key not in data:
            if spec.required:
                raise SettingsError(f"{where}: missing key {key!r}")
            continue
        if not spec.ok(data[key]):
            raise SettingsError(f"{where}: {key!r} must be {spec.want}, got {data[key]!r}"[:300])
    return data


def parse_json(raw: str | bytes) -> Any:
    """json.loads, with text nested too deeply for the parser reported as a JSONDecodeError, not a RecursionError."""
    try:
        return json.loads(raw)
    except RecursionError:
        text = raw if isinstance(raw, str) else raw[:100].decode("utf-8", "replace")
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def read_json(path: Path) -> Any:
    """The JSON in a file, or SettingsError naming the file."""
    try:
        return parse_json(Path(path).read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SettingsError(f"{path}: cannot read it as JSON: {err}") from None


def same_as_built(path: Path, built: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
    """Check a saved model config against the config of the model built here: every key the file sets must be one
    the built model has, with the same value (private "_..." keys and `ignore` excepted)."""
    saved = read_json(path)
    if not isinstance(saved, dict):
        raise SettingsError(f"{path}: must hold a JSON object")
    plain = json.loads(json.dumps(built, default=str))
    for key, value in saved.items():
        if key.startswith("_") or key in ignore:
            continue
        if key not in plain:
            raise SettingsError(f"{path}: unknown key {key!r} (the model built from your config has no such setting)")
        if value != plain[key]:
            raise SettingsError(f"{path}: {key!r} is {value!r}, but the model built from your config has "
                                f"{plain[key]!r}"[:300])
