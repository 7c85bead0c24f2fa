"""Two CPU processes (gloo) launched by torchrun: exactly-once validation and prompt groups across ranks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "dist" / "validate_keys.py"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_process_validation_sees_every_key_once_and_groups_span_ranks(spatial_set, tmp_path):
    out = tmp_path / "seen.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29531",
           str(SCRIPT), str(spatial_set / "pairs" / "val-*.tar"), str(spatial_set / "prompts" / "val-*.tar"), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    seen = json.loads(out.read_text())
    keys = [k for rank in seen for k in rank["val_keys"]]
    assert all(rank["val_keys"] for rank in seen)  # both ranks did work
    assert len(keys) == 40 and Counter(keys).most_common(1)[0][1] == 1
    # prompts: per step, each group id has 4 copies of one prompt, spread over the two ranks
    for step in range(2):
        members = defaultdict(list)
        for rank in seen:
            batch = rank["prompt_batches"][step]
            for prompt, group in zip(batch["prompt"], batch["group"]):
                members[group].append((rank["rank"], prompt))
        assert len(members) == 3 and all(len(m) == 4 and len({p for _, p in m}) == 1 for m in members.values())
        assert any(len({r for r, _ in m}) == 2 for m in members.values())
    prompt_keys = [k for rank in seen for k in rank["prompt_eval_keys"]]
    assert len(prompt_keys) == 20 == len(set(prompt_keys))


@pytest.mark.slow
def test_reward_module_trains_with_ddp_and_fsdp2_on_two_processes(spatial_set, tmp_path):
    from zoo.reward.qwen_vl import QwenVLBackbone
    from zoo.reward.scorer import load

    checkpoint = tmp_path / "ckpt"
    sys.path.insert(0, str(Path(__file__).parent / "dist"))
    from reward_parallel import TINY  # the sizes the script trains at
    backbone = QwenVLBackbone(tiny=TINY)
    backbone.model.save_pretrained(checkpoint)
    backbone.inputs.tokenizer.save_pretrained(checkpoint)
    backbone.inputs.image_processor.save_pretrained(checkpoint)
    out = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           str(Path(__file__).parent / "dist" / "reward_parallel.py"), str(spatial_set / "pairs" / "train-*.tar"),
           str(spatial_set / "pairs" / "val-*.tar"), str(out), str(checkpoint), str(tmp_path / "export")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ddp"]["step"] == 3 and not report["ddp"]["sharded"]
    assert report["fsdp2"]["step"] == 3 and report["fsdp2"]["sharded"]
    for name in ("ddp", "fsdp2"):
        assert report[name]["loss"] == report[name]["loss"]  # finite
        scorer = load(tmp_path / "export" / name)
        assert scorer.meta["weights"] == ("full" if name == "ddp" else "adapter")


@pytest.mark.slow
def test_benchmark_callback_splits_prompts_over_ranks_and_gathers_on_rank_zero(spatial_set, tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29535",
           str(Path(__file__).parent / "dist" / "bench_callback.py"), str(spatial_set / "pairs" / "train-*.tar"),
           str(spatial_set / "prompts" / "val-*.tar"), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["gathered"]["images"] == 7  # 4 on rank 0, 3 on rank 1, each prompt once
    assert report["gathered"]["table"] == pytest.approx(report["local"])
