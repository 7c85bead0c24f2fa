"""Reinforcement learning for flow-matching policies (Flow-GRPO), as plain torch: rewards, advantages, losses."""
