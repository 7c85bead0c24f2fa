"""Qwen-VL image preprocessing on tensors, on whatever device the images are: resize, normalise, patchify.

The transformers image processors available beside this torch (the `*Pil` ones; the fast ones need
torchvision) work image by image on the CPU through PIL and NumPy. GRPO's rewards score a batch of
same-sized policy images that already sit on the accelerator, so `qwen_pixels` does the same steps as
`Qwen2VLImageProcessorPil` (the library's own `smart_resize`, bicubic resampling with antialiasing,
rescale, normalise, the same patch layout) for the whole batch at once. Without a resize (image sides
already multiples of patch x merge within the pixel limits) it equals the processor's output up to
float rounding; with one, torch's antialiased bicubic differs from PIL's by a few grey levels.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F


def _smart_resize(processor):
    module = sys.modules.get(type(processor).__module__)
    fn = getattr(module, "smart_resize", None)
    if fn is None:
        raise TypeError(f"{type(processor).__name__} has no smart_resize: tensor preprocessing needs a Qwen-VL "
                        "image processor")
    return fn


def target_size(processor, height: int, width: int) -> tuple[int, int]:
    """The (height, width) the processor resizes an image of this size to."""
    size = processor.size
    factor = processor.patch_size * processor.merge_size
    return _smart_resize(processor)(height, width, factor=factor, min_pixels=size.shortest_edge,
                                    max_pixels=size.longest_edge)


def qwen_pixels(images: torch.Tensor, processor, quantize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 3, H, W) images in [0, 1] -> (pixel_values (B * gh * gw, C * T * P * P), image_grid_thw (B, 3)).

    quantize: round to 8-bit levels before and after resizing, as the PIL path does with uint8 images.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) images, got shape {tuple(images.shape)}")
    b, c, h, w = images.shape
    p, m, t = processor.patch_size, processor.merge_size, processor.temporal_patch_size
    rh, rw = target_size(processor, h, w)
    x = images.float().clamp(0, 1)
    if quantize:
        x = (x * 255).round() / 255
    if (rh, rw) != (h, w):
        x = F.interpolate(x, size=(rh, rw), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        if quantize:
            x = (x * 255).round() / 255
    mean = torch.tensor(processor.image_mean, device=x.device, dtype=x.dtype).view(1, c, 1, 1)
    std = torch.tensor(processor.image_std, device=x.device, dtype=x.dtype).view(1, c, 1, 1)
    x = (x - mean) / std
    gh, gw = rh // p, rw // p
    x = x.reshape(b, c, gh // m, m, p, gw // m, m, p).permute(0, 2, 5, 3, 6, 1, 4, 7)  # b, gh/m, gw/m, m, m, C, P, P
    x = x.unsqueeze(6).expand(*x.shape[:6], t, p, p)
    pixels = x.reshape(b * gh * gw, c * t * p * p)
    grid = torch.tensor([[1, gh, gw]] * b, dtype=torch.long)
    return pixels, grid
