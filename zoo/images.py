"""Image conversion and grids, in one place for every floor above: [0, 1] float tensors (the policies' and the
rewards' currency) to 8-bit arrays and PIL images as a PNG stores them, and contact-sheet grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[0, 1] (3, H, W) or (B, 3, H, W) tensors -> HxWx3 or BxHxWx3 uint8 arrays (clamped and rounded, as a PNG
    stores them; any float dtype)."""
    x = images.detach().float().clamp(0, 1)
    x = x.permute(1, 2, 0) if x.dim() == 3 else x.permute(0, 2, 3, 1)
    return (x.cpu().numpy() * 255).round().astype(np.uint8)


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """[0, 1] (B, 3, H, W) tensors -> RGB PIL images."""
    return [Image.fromarray(a) for a in to_uint8(images)]


def image_grid(images: torch.Tensor, columns: int = 8, gap: float = 0.0) -> torch.Tensor:
    """(B, 3, H, W) -> one (3, rows*H, columns*W) grid with 2-pixel gaps of value `gap`."""
    b, c, h, w = images.shape
    rows = -(-b // columns)
    grid = torch.full((c, rows * (h + 2), columns * (w + 2)), gap)
    for i, img in enumerate(images.detach().float().cpu()):
        r, k = divmod(i, columns)
        grid[:, r * (h + 2): r * (h + 2) + h, k * (w + 2): k * (w + 2) + w] = img
    return grid


def save_grid(images: torch.Tensor, path: Path, columns: int = 8) -> None:
    """Save (B, 3, H, W) [0, 1] images as one PNG grid (2-pixel white gaps)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(image_grid(images.clamp(0, 1), columns, gap=1.0))).save(path)


def from_uint8(arrays: list[np.ndarray] | np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 arrays -> [0, 1] (B, 3, H, W) float tensors (the inverse of to_uint8)."""
    return torch.stack([torch.from_numpy(np.asarray(a)).permute(2, 0, 1).float() / 255 for a in arrays])
