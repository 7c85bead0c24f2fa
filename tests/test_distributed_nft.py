"""DiffusionNFT on two CPU processes (gloo) launched by torchrun: DDP and FSDP2, and a sharded resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_nft_trains_with_ddp_and_fsdp2_on_two_processes_and_resumes_sharded(spatial_set, tmp_path):
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    torch.manual_seed(0)
    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    export_scorer(RewardModel(QwenVLBackbone(tiny=tiny), "linear"), tmp_path / "scorer")
    out = tmp_path / "nft.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29547",
           str(Path(__file__).parent / "dist" / "nft_parallel.py"), str(spatial_set / "prompts" / "train-*.tar"),
           str(tmp_path / "scorer"), str(out), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads(Path(f"{out}.rank{r}").read_text()) for r in (0, 1)]
    ddp = [r["ddp"] for r in ranks]
    assert ddp[0]["step"] == 2 and ddp[0]["param_sum"] == ddp[1]["param_sum"]  # replicas stay identical
    assert ddp[0]["sampling_sum"] == ddp[1]["sampling_sum"]  # and so do their sampling policies
    assert ddp[0]["stats"]["reward_mean"] == ddp[1]["stats"]["reward_mean"]  # rewards gathered before advantages
    for r in ranks:
        f = r["fsdp2"]
        assert f["step"] == 4 and f["policy_sharded"] and f["reward_unsharded"] == [] and f["sampling_sharded"]
        assert f["resumed_equal"] and f["sampling_resumed_equal"] and f["ema_resumed_equal"] and f["lora_params"] > 0
        assert f["sampling_lags"] and f["stats"]["kl_ref"] > 0
