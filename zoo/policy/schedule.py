"""Sigma schedules that several policy families share."""

from __future__ import annotations

import numpy as np
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.pipelines.flux.pipeline_flux import calculate_shift


def shifted_sigmas(scheduler_config, steps: int, image_seq_len: int) -> list[float]:
    """The schedule Flux's and Qwen-Image's pipelines sample with: `steps` sigmas from linspace(1, 1/steps), shifted
    by the resolution-dependent mu of the scheduler's config (its defaults: Flux's), ending at 0."""
    scheduler = FlowMatchEulerDiscreteScheduler.from_config(scheduler_config)
    cfg = scheduler.config
    mu = calculate_shift(image_seq_len, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                         cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=mu)
    return scheduler.sigmas.tolist()
