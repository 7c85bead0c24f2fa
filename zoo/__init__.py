"""zoo: SpatialScore reward models and RL (GRPO) for spatially-aware text-to-image models.

`from zoo import Scorer` loads a SpatialScore scorer (a folder or a Hugging Face Hub id); `import zoo` alone stays
light (torch and transformers load on first use of a name below).
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("zoo")
except PackageNotFoundError:  # run from a source tree that was not installed
    __version__ = "0.1.0"

_LAZY = {"Scorer": "zoo.reward.scorer"}
__all__ = ["Scorer", "__version__"]


def __getattr__(name: str) -> Any:
    """The public names of `_LAZY`, imported on first access."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
