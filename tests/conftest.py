"""Shared fixtures: small SpatialShapes shard sets built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.data.spatial import SplitSizes, build_spatial
from zoo.world.pairs import PairSpec

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def spatial_set(tmp_path_factory) -> Path:
    """A small world-v1 shard set: 120/40/40 pairs in shards of 10, 60/20/20 prompts."""
    out = tmp_path_factory.mktemp("spatial")
    build_spatial(out, SplitSizes(120, 40, 40), SplitSizes(60, 20, 20), PairSpec(size=48), seed=3,
                  shard_size=10, workers=1, progress=False)
    return out
