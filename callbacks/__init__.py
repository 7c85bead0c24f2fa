"""Lightning callbacks: data-error logging and periodic SpatialBench now; EMA and KL tracking later."""

from callbacks.benchmark import BenchmarkCallback
from callbacks.data_errors import CorruptSampleLogger

__all__ = ["BenchmarkCallback", "CorruptSampleLogger"]
