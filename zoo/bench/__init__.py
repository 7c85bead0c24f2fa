"""Benchmark suites: prompt loaders in the published formats, scoring protocols, SpatialBench."""
