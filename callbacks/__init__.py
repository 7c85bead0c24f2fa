"""Lightning callbacks: data-error logging, periodic SpatialBench, EMA, RL statistics and rollout grids."""

from callbacks.benchmark import BenchmarkCallback
from callbacks.data_errors import CorruptSampleLogger
from callbacks.ema import EMACallback
from callbacks.rl_tracking import RLStatsTracker, RolloutImages

__all__ = ["BenchmarkCallback", "CorruptSampleLogger", "EMACallback", "RLStatsTracker", "RolloutImages"]
