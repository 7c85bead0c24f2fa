"""Shards of preference pairs and prompts: writing, packing, inspecting and streaming them (no Lightning)."""
