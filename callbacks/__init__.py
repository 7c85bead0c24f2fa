"""Lightning callbacks: data-error logging now; EMA, KL tracking and periodic benchmarks later."""

from callbacks.data_errors import CorruptSampleLogger

__all__ = ["CorruptSampleLogger"]
