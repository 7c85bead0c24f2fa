"""The protocol of a benchmark suite and its registry: a suite loads its items, builds its judge (if a model judges
it), judges one image and tabulates its columns. A new suite is one file: a `Suite` subclass decorated with
`@register_suite`, named on the command line by its name once its module is imported, or by its dotted path
(`--suite mypackage.mysuite.MySuite`) without touching any file of the zoo."""

from __future__ import annotations

import importlib
from typing import Any, Sequence

import numpy as np

from zoo.bench.prompts import BenchItem

SUITE_REGISTRY: dict[str, type["Suite"]] = {}


class Suite:
    """A benchmark suite (subclass it and register it; see the module docstring)."""

    name: str = ""
    judged: bool = False  # judged by a model (a detector or a VLM) rather than from pixels by the world verifier

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        """The suite's items from its prompt files, at least the first `count` (None: all); `errors`: a list to
        report bad records in (None: raise on the first)."""
        raise NotImplementedError

    def build_judge(self, model: str | None, family: str) -> Any:
        """The judge model from a checkpoint (path or hub id; None: tiny and random, for tests); None if unjudged."""
        return None

    def judge_image(self, item: BenchItem, image: np.ndarray, judge: Any) -> dict[str, Any]:
        """One uint8 HxWx3 image's verdict row (raises on failure; the caller records the error)."""
        raise NotImplementedError

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        """The suite's columns from verdict rows (one per image) and their items."""
        raise NotImplementedError

    def counts(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, int]:
        """Images behind each column, where the suite reports them ({} otherwise)."""
        return {}


def register_suite(cls: type[Suite]) -> type[Suite]:
    """Class decorator: make a Suite subclass available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    SUITE_REGISTRY[cls.name] = cls
    return cls


def get_suite(name: str) -> Suite:
    """A registered suite by name, or any Suite subclass by its dotted path (`package.module.Class`)."""
    if name in SUITE_REGISTRY:
        return SUITE_REGISTRY[name]()
    if "." in name:
        module, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"suite {name!r}: cannot import it ({err})") from None
        if isinstance(cls, type) and issubclass(cls, Suite):
            return cls()
        raise ValueError(f"suite {name!r} is not a zoo.bench.suite.Suite subclass")
    raise ValueError(f"suite must be one of {sorted(SUITE_REGISTRY)} or a dotted path to a Suite class, got {name!r}")
