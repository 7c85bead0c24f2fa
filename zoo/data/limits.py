"""The project's limits on what it reads, each overridable by an environment variable (so that every entry point,
DataLoader workers included, sees the same value):

- ZOO_MAX_IMAGE_PIXELS (default 16 Mpx): larger images are refused before they are decoded.
- ZOO_MAX_MEMBER_BYTES (default 1 GiB): the largest tar member read from a stream whose size is unknown (a member
  never may claim more than a file of known size holds).
- ZOO_REMOTE_TIMEOUT (default 60 s): connect and read timeout of remote shard reads (http(s), s3).
"""

from __future__ import annotations

import os

DEFAULT_MAX_IMAGE_PIXELS = 16 * 1024 * 1024
DEFAULT_MAX_MEMBER_BYTES = 1 << 30
DEFAULT_REMOTE_TIMEOUT = 60.0
MAX_ASPECT_RATIO = 200  # the Qwen-VL image processors refuse images more elongated than this


def _env_number(name: str, default: float, kind: type = int) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: must be a positive {kind.__name__}") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: must be a positive {kind.__name__}")
    return value


def max_image_pixels() -> int:
    """Largest image (width x height) any reader of the project decodes."""
    return int(_env_number("ZOO_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


def max_member_bytes() -> int:
    """Largest tar member read from a stream of unknown size."""
    return int(_env_number("ZOO_MAX_MEMBER_BYTES", DEFAULT_MAX_MEMBER_BYTES))


def remote_timeout() -> float:
    """Seconds a remote read may wait for a connection or for data."""
    return float(_env_number("ZOO_REMOTE_TIMEOUT", DEFAULT_REMOTE_TIMEOUT, float))
