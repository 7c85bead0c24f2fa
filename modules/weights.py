"""Swapping other weights in for evaluation and export (the EMA callback's), shared by the training modules."""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator


class WeightScopes:
    """Mixin for LightningModules: callbacks append context managers to `weight_scopes` (the EMA callback appends
    its swap-in); `ema_scope()` enters them all, so validation, benchmarks and export see the averaged weights."""

    weight_scopes: list[Callable[[], ContextManager]]

    @contextlib.contextmanager
    def ema_scope(self) -> Iterator[None]:
        """The weights to evaluate and export for a block (the EMA callback's, when one is on)."""
        with contextlib.ExitStack() as stack:
            for scope in getattr(self, "weight_scopes", []):
                stack.enter_context(scope())
            yield
