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
    assert set(rows) == {"reward_train", "reward_score", "grpo_step"}
    for r in rows.values():
        assert r["bare_s"] > 0 and r["project_s"] > 0 and r["ratio"] > 0
        assert r["bare_rate"] > 0 and r["project_rate"] > 0 and r["flops_per_step"] > 0
        assert r["mfu_bare"] is None and r["peak_gb_project"] is None  # no peak FLOP/s or GPU memory on CPU
    assert rows["reward_train"]["unit"] == "pairs/s" and rows["grpo_step"]["unit"] == "images/s"
    assert "grpo_step" in proc.stdout and "ratio" in proc.stdout  # the table is printed
