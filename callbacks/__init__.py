"""Lightning callbacks: data-error logging, periodic SpatialBench, EMA, RL statistics and rollout grids, the
reward-hacking guard."""

from callbacks.benchmark import BenchmarkCallback
from callbacks.data_errors import CorruptSampleLogger
from callbacks.ema import EMACallback
from callbacks.guard import RewardHackingGuard
from callbacks.progress import ProgressFileCallback, StepProgressBar
from callbacks.rl_tracking import RLStatsTracker, RolloutImages

__all__ = ["BenchmarkCallback", "CorruptSampleLogger", "EMACallback", "ProgressFileCallback", "RLStatsTracker",
           "RewardHackingGuard", "RolloutImages", "StepProgressBar"]
