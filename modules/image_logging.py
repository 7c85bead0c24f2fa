"""Images to every logger of a run, each through its own API; a PNG file for loggers that have none."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import torch
from PIL import Image

from zoo.images import to_uint8


def _folder(logger) -> Path:
    for name in ("log_dir", "save_dir", "root_dir"):
        value = getattr(logger, name, None)
        if value:
            return Path(value)
    return Path(".")


def log_image(loggers: Iterable, tag: str, grid: torch.Tensor, step: int) -> list[str]:
    """Log a [0, 1] (3, H, W) image grid under `tag` at `step` to each logger: TensorBoard's `add_image`, the
    `log_image` of W&B/Neptune-style loggers, MLflow's `log_image`, else `<log_dir>/images/<tag>/step_<step>.png`
    (CSV and other loggers). Returns where each logger got it (for tests and messages)."""
    where = []
    for logger in loggers:
        experiment = getattr(logger, "experiment", None)
        if hasattr(experiment, "add_image"):  # TensorBoard
            experiment.add_image(tag, grid.detach().float().clamp(0, 1).cpu(), step)
            where.append(f"{type(logger).__name__}: add_image")
        elif callable(getattr(logger, "log_image", None)):  # W&B (WandbLogger.log_image), Neptune-style
            logger.log_image(key=tag, images=[to_uint8(grid)], step=step)
            where.append(f"{type(logger).__name__}: log_image")
        elif hasattr(experiment, "log_image") and getattr(logger, "run_id", None):  # MLflow
            experiment.log_image(logger.run_id, to_uint8(grid), f"{tag}/step_{step}.png")
            where.append(f"{type(logger).__name__}: mlflow log_image")
        else:
            path = _folder(logger) / "images" / re.sub(r"[^A-Za-z0-9_.-]", "_", tag) / f"step_{step}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(to_uint8(grid)).save(path)
            where.append(str(path))
    return where
