"""SpatialScore: reward backbones (Qwen-VL family, CLIP-style), heads, losses and the scorer (no Lightning)."""
