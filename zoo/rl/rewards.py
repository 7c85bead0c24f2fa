"""Rewards for RL on images: the SpatialShapes verifier, a SpatialScore scorer folder, and weighted mixes.

A reward maps (prompts, images (B, 3, H, W) in [0, 1], metas) to a (B,) float tensor; NaN marks a sample the
reward could not judge. `safe_call` turns exceptions into NaN (isolating the failing samples) so that one bad
image costs its own sample, not the step.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Sequence

import torch
from torch import nn

from zoo.bench.spatialbench import verify_images
from zoo.images import to_pil
from zoo.reward.scorer import load_reward_model, resolve_scorer
from zoo.world.spec import SCORE_VERSION, SCORE_VERSIONS

log = logging.getLogger(__name__)


class Reward(nn.Module):
    """Base class: `forward(prompts, images, metas) -> (B,)` scores; frozen, never trained by the policy."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]]) -> torch.Tensor:
        raise NotImplementedError


class VerifierReward(Reward):
    """The SpatialShapes verifier as a reward (GenEval-style oracle; Flow-GRPO*'s analogue): the fraction of
    relations satisfied under the world's scoring `version` (v1.1: both objects found with the right shape), plus
    `objects_weight` times the fraction of objects found, minus `clutter_weight` times the clutter."""

    def __init__(self, objects_weight: float = 0.0, clutter_weight: float = 0.0, version: str = SCORE_VERSION) -> None:
        super().__init__()
        if version not in SCORE_VERSIONS:
            raise ValueError(f"unknown verifier version {version!r}; choose one of {SCORE_VERSIONS}")
        self.objects_weight, self.clutter_weight, self.version = objects_weight, clutter_weight, version

    def forward(self, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]]) -> torch.Tensor:
        missing = [i for i, m in enumerate(metas) if "objects" not in m or "relations" not in m]
        if missing:
            raise ValueError(f"the verifier reward needs SpatialShapes scenes in the prompt records' meta "
                             f"(objects, relations); sample {missing[0]} has keys {sorted(metas[missing[0]])}")
        rows = verify_images(images, metas, self.version)
        return torch.tensor([r["score"] + self.objects_weight * r["found"] - self.clutter_weight * r["clutter"]
                             for r in rows], dtype=torch.float32)


class SpatialScoreReward(Reward):
    """A SpatialScore scorer folder (`zoo fit` on a reward config exports one) as a frozen reward."""

    def __init__(self, folder: str, batch_size: int = 32, preprocess: Literal["pil", "tensor"] = "pil") -> None:
        """
        Args:
            folder: the scorer folder, or a Hugging Face Hub id owner/name.
            batch_size: images per scoring pass.
            preprocess: "pil" (the image processor on the CPU, as in training) or "tensor" (the same steps on the images' device, as one batch; Qwen-VL scorers only; equal without a resize, within one grey level with one).
        """
        super().__init__()
        path = resolve_scorer(folder)  # a folder, or a Hugging Face Hub id owner/name
        if not path.is_dir():
            raise FileNotFoundError(f"SpatialScore scorer folder not found: {path} (train one with "
                                    "`zoo fit -c configs/reward/tiny_qwen2_5_vl.yaml`)")
        self.model, self.meta = load_reward_model(path)
        self.model.requires_grad_(False).eval()
        self.batch_size = batch_size
        if preprocess not in ("pil", "tensor"):
            raise ValueError(f"preprocess must be 'pil' or 'tensor', got {preprocess!r}")
        if preprocess == "tensor" and not getattr(self.model.backbone, "tensor_images", False):
            raise ValueError(f"preprocess 'tensor' needs a scorer whose backbone takes tensor images (Qwen-VL); "
                             f"{path} holds {type(self.model.backbone).__name__}")
        self.preprocess = preprocess

    def train(self, mode: bool = True) -> "SpatialScoreReward":
        return super().train(False)  # frozen: always eval

    @torch.no_grad()
    def forward(self, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]]) -> torch.Tensor:
        batch = to_pil(images) if self.preprocess == "pil" else images
        out = [self.model.score(list(prompts[i:i + self.batch_size]), batch[i:i + self.batch_size])
               for i in range(0, len(batch), self.batch_size)]
        self._reshard()
        return torch.cat(out).float() if out else torch.empty(0)

    def _reshard(self) -> None:
        """FSDP2 keeps a root unit's weights gathered after forward (expecting a backward that never comes
        for a frozen reward): free them again."""
        from torch.distributed.fsdp import FSDPModule

        for module in self.model.modules():
            if isinstance(module, FSDPModule):
                module.reshard()


class RewardMix(Reward):
    """Named rewards with weights. mode "sum": one reward, the weighted sum; mode "advantage": each reward is
    group-normalised separately and the advantages are summed with the weights (see GRPOModule)."""

    def __init__(self, rewards: dict[str, Reward], weights: dict[str, float] | None = None,
                 mode: Literal["sum", "advantage"] = "sum") -> None:
        super().__init__()
        if not rewards:
            raise ValueError("RewardMix needs at least one reward")
        if mode not in ("sum", "advantage"):
            raise ValueError(f"RewardMix mode must be 'sum' or 'advantage', got {mode!r}")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(rewards))
        if unknown:
            raise ValueError(f"weights for unknown rewards {unknown}; rewards are {sorted(rewards)}")
        self.rewards = nn.ModuleDict(rewards)
        self.weights = {name: float(weights.get(name, 1.0)) for name in rewards}
        self.mode = mode

    def components(self, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Each named reward's scores (NaN where it failed)."""
        return {name: safe_call(r, prompts, images, metas, name) for name, r in self.rewards.items()}

    def combine(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        """The weighted sum of named scores (NaN if any is NaN)."""
        return sum(self.weights[name] * parts[name] for name in self.rewards)

    def forward(self, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]]) -> torch.Tensor:
        return self.combine(self.components(prompts, images, metas))


def safe_call(reward: Reward, prompts: Sequence[str], images: torch.Tensor, metas: Sequence[dict[str, Any]],
              name: str = "reward") -> torch.Tensor:
    """Scores with failures as NaN: if the batch raises, each sample is retried alone and the failing ones
    (or a wrong-sized result) become NaN, with a warning naming the reward and the error."""
    n = len(prompts)
    try:
        return _checked(reward(prompts, images, metas), n, name)
    except Exception as err:  # noqa: BLE001 - a reward's failure must not end a long run; it is counted
        log.warning("reward %s failed on a batch of %d (%s: %s); scoring one by one", name, n, type(err).__name__, err)
    out = torch.full((n,), float("nan"))
    for i in range(n):
        try:
            out[i] = _checked(reward(prompts[i:i + 1], images[i:i + 1], metas[i:i + 1]), 1, name)[0]
        except Exception as err:  # noqa: BLE001
            log.warning("reward %s failed on sample %d (%r): %s: %s", name, i, prompts[i][:60], type(err).__name__, err)
    return out


def _checked(scores: torch.Tensor, n: int, name: str) -> torch.Tensor:
    scores = torch.as_tensor(scores, dtype=torch.float32).flatten().cpu()
    if scores.numel() != n:
        raise ValueError(f"reward {name} returned {scores.numel()} scores for {n} images")
    return scores
