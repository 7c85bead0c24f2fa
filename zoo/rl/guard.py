"""The reward-hacking rule as a pure function: the training reward keeps rising while a held-out, verified score falls
below its best (the most reported failure of RL on images: a reward model over-optimised)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass
class HackingVerdict:
    """Whether the rule fires, the evaluation with the best held-out score, and why (one line)."""

    hacking: bool
    best: int
    reason: str


def reward_hacking(heldout: Sequence[float], rewards: Sequence[float], patience: int = 2, min_drop: float = 0.02,
                   min_rise: float = 0.0, mode: str = "max") -> HackingVerdict:
    """Judge a run from its evaluations so far: heldout[i] is the held-out score at evaluation i, rewards[i] the mean
    training reward over the rollouts since the evaluation before (NaN when there were none, e.g. before training).

    Fires when the best held-out score lies at least `patience` evaluations back, each of the last `patience` scores
    is worse than the best by more than `min_drop`, and the training reward now exceeds the reward at the best point
    (the first known one from there on) by more than `min_rise`. mode "min" for scores where lower is better.
    """
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if len(heldout) != len(rewards):
        raise ValueError(f"{len(heldout)} held-out scores but {len(rewards)} reward windows")
    if not heldout:
        return HackingVerdict(False, -1, "no evaluation yet")
    sign = 1.0 if mode == "max" else -1.0
    scores = [sign * s for s in heldout]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))  # the earliest of equal bests
    since = len(scores) - 1 - best
    if since < patience:
        return HackingVerdict(False, best, f"best held-out score {heldout[best]:.4g} only {since} evaluations ago")
    worse = all(s < scores[best] - min_drop for s in scores[-patience:])
    if not worse:
        return HackingVerdict(False, best, "the held-out score has not stayed below its best")
    known = [r for r in rewards[best:] if not math.isnan(r)]
    if len(known) < 2 or not known[-1] > known[0] + min_rise:
        return HackingVerdict(False, best, "the held-out score fell, but so did the training reward")
    return HackingVerdict(True, best, f"training reward {known[0]:.4g} -> {known[-1]:.4g} while the held-out score "
                                      f"fell from {heldout[best]:.4g} to {heldout[-1]:.4g} over {since} evaluations")
