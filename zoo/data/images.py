"""Reading images: one function for the whole project, so every reader sees the same pixels.

`read_image` refuses an image larger than the project's pixel limit (`ZOO_MAX_IMAGE_PIXELS`, 16 Mpx by default)
or more elongated than the processors take (200:1) from its header, before decoding it; applies the EXIF
orientation; scales 16-bit and 32-bit grey to 8 bits instead of clipping; and composites transparent pixels on
white, so that a colour hidden under alpha 0 never shows.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from zoo.data.limits import MAX_ASPECT_RATIO, max_image_pixels

ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")


class ImageError(ValueError):
    """An image that cannot be used: undecodable, too large, too elongated."""


def read_image(source: bytes | str | Path, name: str | None = None, max_pixels: int | None = None) -> Image.Image:
    """An RGB image from encoded bytes or a file, checked and normalised as the module says; ImageError otherwise."""
    name = name or (str(source) if not isinstance(source, bytes) else "image bytes")
    limit = max_pixels or max_image_pixels()
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{name}: not a file")
        if path.stat().st_size > 8 * limit + (1 << 20):  # more bytes than any encoding of `limit` pixels needs
            raise ImageError(f"{name}: {path.stat().st_size} bytes, more than an image within the pixel limit "
                             f"({limit} px, ZOO_MAX_IMAGE_PIXELS) can take")
    try:
        with warnings.catch_warnings():  # PIL's own bomb warning: our limit, checked next, is the lower one
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        with im:
            _check_size(im.size, limit, name)
            upright = ImageOps.exif_transpose(im)
            upright.load()
            return to_rgb(upright)
    except ImageError:
        raise
    except Exception as err:  # PIL raises many types for bad data
        raise ImageError(f"cannot decode {name}: {type(err).__name__}: {err}") from err


def _check_size(size: tuple[int, int], limit: int, name: str) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{name}: empty image ({width}x{height})")
    if width * height > limit:
        raise ImageError(f"{name}: {width}x{height} = {width * height} pixels, more than the limit of {limit} "
                         "(set ZOO_MAX_IMAGE_PIXELS to change it)")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise ImageError(f"{name}: {width}x{height} is more elongated than {MAX_ASPECT_RATIO}:1, which the image "
                         "processors refuse")


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: wide grey scaled (65535 -> 255), transparency composited on white, anything else converted."""
    if image.mode in WIDE_GREY:
        wide = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        scale = 255.0 if np.nanmax(values, initial=0.0) <= 1.0 else 1.0
        grey = np.clip(np.nan_to_num(values * scale), 0, 255).round().astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
