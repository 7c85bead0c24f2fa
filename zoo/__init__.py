"""zoo: SpatialScore reward models and RL (GRPO) for spatially-aware text-to-image models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zoo")
except PackageNotFoundError:  # run from a source tree that was not installed
    __version__ = "0.1.0"
