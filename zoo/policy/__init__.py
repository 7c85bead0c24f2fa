"""Policies (flow-matching text-to-image models) and the SDE sampler with log-probabilities (no Lightning)."""
