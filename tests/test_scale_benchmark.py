"""benchmarks/scale.py runs at tiny size on CPU and writes every row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scale_benchmark_writes_every_row_with_positive_ratio_and_throughput(tmp_path):
    out = tmp_path / "scale.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--size", "tiny", "--warmup", "1",
                           "--iters", "2", "--out", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["size"] == "tiny" and result["device"].startswith("cpu") and result["peak_flops"] is None
    rows = {r["case"]: r for r in result["rows"]}
    assert set(rows) == {"reward_train", "reward_score", "reward_score_tensor", "grpo_step"}
    for r in rows.values():
        assert r["bare_s"] > 0 and r["project_s"] > 0 and r["ratio"] > 0
        assert r["bare_rate"] > 0 and r["project_rate"] > 0 and r["flops_per_step"] > 0
        assert r["mfu_bare"] is None and r["peak_gb_project"] is None  # no peak FLOP/s or GPU memory on CPU
    assert rows["reward_train"]["unit"] == "pairs/s" and rows["grpo_step"]["unit"] == "images/s"
    assert "grpo_step" in proc.stdout and "ratio" in proc.stdout  # the table is printed


def test_the_real_size_path_runs_with_narrow_real_architectures(monkeypatch, tmp_path):
    """`--size real` end to end on CPU: meta builds materialised in bf16 with fp32 LoRA, the policy at 512^2 with 512
    text tokens, the reward at 112^2; only the widths and depths of the two architectures are cut down."""
    import zoo.policy.flux as flux
    import zoo.reward.qwen_vl as qwen_vl

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import scale
    import scale_models

    monkeypatch.setitem(flux.ARCHITECTURES, "flux_dev", dict(
        flux.FLUX_DEV, num_layers=1, num_single_layers=1, num_attention_heads=1, joint_attention_dim=64,
        pooled_projection_dim=32))
    narrow = {"text": dict(qwen_vl.QWEN2_5_VL_7B["text"], hidden_size=128, intermediate_size=128, num_hidden_layers=1,
                           num_attention_heads=1, num_key_value_heads=1, vocab_size=1024),
              "vision": dict(qwen_vl.QWEN2_5_VL_7B["vision"], depth=2, hidden_size=32, intermediate_size=64,
                             num_heads=1, out_hidden_size=128, fullatt_block_indexes=[1])}
    monkeypatch.setitem(qwen_vl.ARCHITECTURES, "qwen2_5_vl_7b", ("qwen2_5_vl", narrow))
    monkeypatch.setitem(scale_models.SETTINGS, "real", scale_models.Setting(
        "real", pairs=1, score_batch=2, reward_image=112, images=2, group=2, minibatches=1, steps=2, beta=0.04,
        lora_r=4))
    result = scale.main(["--size", "real", "--warmup", "0", "--iters", "1", "--out", str(tmp_path / "real.json")])
    assert result["size"] == "real" and [r["case"] for r in result["rows"]] == [
        "reward_train", "reward_score", "reward_score_tensor", "grpo_step"]
    assert all(r["ratio"] > 0 and r["project_rate"] > 0 for r in result["rows"])
