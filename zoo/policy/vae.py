"""Latent spaces for flow-matching policies: diffusers' AutoencoderKL, or a fixed invertible pixel space."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class PixelShuffleVAE(nn.Module):
    """A fixed, exactly invertible "VAE" for tiny policies: pixel unshuffle (space-to-depth) of [-1, 1] images.

    An image (3, H, W) becomes a latent (3 f^2, H/f, W/f). It has no weights, so a tiny policy
    spends its training on drawing, not on a learned autoencoder, and decoding is exact: the
    verifier judges exactly what the policy put in its latents.
    """

    def __init__(self, factor: int = 4) -> None:
        super().__init__()
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor}")
        self.factor = factor

    @property
    def scale_factor(self) -> int:
        """Pixels per latent cell along each side."""
        return self.factor

    @property
    def latent_channels(self) -> int:
        return 3 * self.factor**2

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] images (B, 3, H, W) -> latents (B, 3 f^2, H/f, W/f)."""
        return F.pixel_unshuffle(images, self.factor)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents -> [-1, 1] images."""
        return F.pixel_shuffle(latents, self.factor)


class KLLatents(nn.Module):
    """diffusers' AutoencoderKL with its scaling and shift factors applied (Flux, SD3)."""

    def __init__(self, vae) -> None:
        super().__init__()
        self.vae = vae

    @property
    def scale_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_channels(self) -> int:
        return self.vae.config.latent_channels

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        cfg = self.vae.config
        latents = self.vae.encode(images.to(self.vae.dtype)).latent_dist.mode()
        return (latents - (cfg.shift_factor or 0.0)) * cfg.scaling_factor

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        cfg = self.vae.config
        latents = latents / cfg.scaling_factor + (cfg.shift_factor or 0.0)
        return self.vae.decode(latents.to(self.vae.dtype)).sample
