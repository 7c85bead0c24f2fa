"""AutoencoderModule: trains a tiny AutoencoderKL, the latent space of a tiny latent-diffusion policy (Lightning glue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import lightning as L
import torch

from modules.batches import connect_batches
from modules.distributed import ExportAtFitEnd
from modules.flow_matching import ImageCaptionCollator, drain, verified
from modules.image_logging import log_image
from modules.optim import adamw_with_warmup
from zoo.images import image_grid
from zoo.policy.vae import autoencoder_loss, build_tiny_vae


class AutoencoderModule(ExportAtFitEnd, L.LightningModule):
    """Train a tiny AutoencoderKL on the pairs' images (L1 + a small KL, as latent diffusion's VAE without its
    perceptual and adversarial terms). Validation reconstructs held-out images from their latent means and judges
    the reconstructions with the world verifier (v1.1): a policy on this latent space can draw at best that well.
    When fitting ends, the VAE is saved (diffusers `save_pretrained`, safetensors) with Flux's latent scaling: the
    scaling and shift factors that give the training latents zero mean and unit variance.

    Args:
        channels: block widths (scale 2^(n - 1): four blocks = 8 pixels per latent cell).
        latent_channels: latent channels (Flux: 16).
        kl_weight: weight of the KL to the unit Gaussian.
        lr: AdamW learning rate (after warm-up).
        warmup_steps: optimizer steps of linear learning-rate warm-up.
        image_size: images are resized (box filter) to this size.
        both_sides: also train on the rejected image of each pair.
        val_images: held-out images reconstructed per validation.
        export_dir: where the trained VAE goes (the policies' `tiny.vae_from`).
    """

    def __init__(self, channels: Sequence[int] = (32, 32, 32, 32), latent_channels: int = 16,
                 kl_weight: float = 1e-6, lr: float = 2e-3, warmup_steps: int = 50, image_size: int = 64,
                 both_sides: bool = True, val_images: int = 128, export_dir: str | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.vae = build_tiny_vae(channels, latent_channels)
        self._val: list[tuple[torch.Tensor, list[dict]]] = []
        self.register_buffer("latent_moments", torch.zeros(3, dtype=torch.float64))  # count, sum, sum of squares

    def setup(self, stage: str) -> None:
        connect_batches(self.trainer, ImageCaptionCollator(self.hparams.both_sides, self.hparams.image_size))

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(int(self.global_step) * 7919 + batch_idx)
        loss, means = autoencoder_loss(self.vae, batch["image"] * 2 - 1, self.hparams.kl_weight, gen)
        z = means.detach().double()
        self.latent_moments += torch.stack([torch.tensor(z.numel(), dtype=torch.float64, device=z.device),
                                            z.sum(), (z * z).sum()])
        self.log("vae/loss", loss, prog_bar=True, batch_size=len(batch["image"]))
        return loss

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images through the latent means and back."""
        latents = self.vae.encode(images * 2 - 1).latent_dist.mode()
        return ((self.vae.decode(latents).sample + 1) / 2).clamp(0, 1)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        take = min(len(batch["image"]), self.hparams.val_images - sum(len(m) for _, m in self._val))
        if take > 0:
            self._val.append((self.reconstruct(batch["image"][:take]).cpu(), batch["meta"][:take]))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        images, metas = drain(self._val)
        if all("objects" in m for m in metas):
            self.log_dict({f"val/recon_{k}": v for k, v in verified(images, metas).items()}, prog_bar=True)
        log_image(self.loggers, "val/reconstructions", image_grid(images[:32]), self.global_step)

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_with_warmup(self.vae.named_parameters(), hp.lr, 0.0, hp.warmup_steps)

    exported = "autoencoder"

    def export_model(self) -> torch.nn.Module:
        return self.vae

    def write_export(self, folder: Path, state: dict[str, torch.Tensor] | None) -> Path:
        """The VAE (diffusers' save_pretrained) with its latent scaling and shift measured over training."""
        count, total, squares = self.latent_moments.tolist()
        if count > 0:
            mean = total / count
            std = max((squares / count - mean**2) ** 0.5, 1e-6)
            self.vae.register_to_config(scaling_factor=1.0 / std, shift_factor=mean)
        self.vae.save_pretrained(folder, safe_serialization=True)
        return folder
