"""LightningModules (Lightning glue only): reward training, flow-matching SFT and GRPO live here."""
