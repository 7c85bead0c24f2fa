"""benchmarks/shape_probe.py: the issue-15 probe runs and writes one judged row per sampling schedule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_shape_probe_writes_a_row_per_sampling_schedule_with_rates_in_range(tmp_path):
    out = tmp_path / "probe.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "shape_probe.py"), "--placement", "fixed",
                           "--steps", "2", "--count", "4", "--out", str(out)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["sampling"] for r in rows] == ["8 steps", "32 steps", "8 steps, shift 4"]
    assert all(0 <= r["right_shape"] <= r["colour_found"] <= 1 for r in rows)
    assert (tmp_path / "probe_8steps.png").is_file()
