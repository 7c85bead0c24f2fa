"""RewardModel: a backbone that pools one vector per (image, prompt) and a head that scores it."""

from __future__ import annotations

from typing import Sequence

import torch
from PIL import Image
from torch import nn

from zoo.reward.heads import LinearHead, MLPHead, mean_score

HEADS = {"linear": LinearHead, "mlp": MLPHead}


class RewardModel(nn.Module):
    """backbone (any registered `zoo.reward.backbones.RewardBackbone`) + head ("linear" or "mlp", fp32).

    Args:
        backbone: a RewardBackbone (`inputs(prompts, images)`, `forward(batch) -> (B, H)`, `hidden_size`,
            `head_init()`).
        head: "linear" (one score) or "mlp" ((mu, log sigma) for the uncertainty loss).
    """

    def __init__(self, backbone: nn.Module, head: str = "linear") -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {sorted(HEADS)}, got {head!r}")
        self.backbone, self.head_kind = backbone, head
        init = backbone.head_init() if head == "linear" else None
        self.head = LinearHead(backbone.hidden_size, init) if head == "linear" else MLPHead(backbone.hidden_size)

    @property
    def inputs(self):
        """The backbone's (prompt, image) -> tensors encoder (picklable; used in DataLoader workers)."""
        return self.backbone.inputs

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Head outputs, (B, 1) or (B, 2), in fp32."""
        return self.head(self.backbone(batch))

    @torch.no_grad()
    def score(self, prompts: Sequence[str], images: Sequence[Image.Image] | torch.Tensor) -> torch.Tensor:
        """Mean scores of (prompt, image) pairs, one batch."""
        batch = self.inputs(prompts, images)
        device = next(self.parameters()).device
        return mean_score(self({k: v.to(device) for k, v in batch.items()})).cpu()
