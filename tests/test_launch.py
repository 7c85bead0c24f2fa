"""The sample SLURM batch script launches `zoo fit` as SLURM would: one task per device, two "nodes", hybrid sharding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FAKE_SRUN = """#!/bin/bash
# srun on one machine: the command once per task, with SLURM's per-task variables (options before it ignored)
while [[ "$1" == --* ]]; do shift; done
pids=()
for ((i = 0; i < SLURM_NTASKS; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$((i % SLURM_NTASKS_PER_NODE)) SLURM_NODEID=$((i / SLURM_NTASKS_PER_NODE)) "$@" &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
exit $rc
"""


@pytest.mark.slow
def test_slurm_batch_script_runs_zoo_fit_on_two_nodes_with_a_hybrid_mesh(spatial_set, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text(FAKE_SRUN)
    (bin_dir / "srun").chmod(0o755)
    prompts = str(spatial_set / "prompts" / "train-*.tar")
    overlay = {  # the tiny GRPO config on CPU, FSDP2 over both "nodes", two rollouts
        "model": {"init_args": {"init_from": None, "hybrid_shard": True, "activation_checkpointing": True,
                                "export_dir": str(tmp_path / "policy")}},
        "data": {"init_args": {"train": prompts, "val": prompts, "batch_size": 4, "group_size": 4,
                               "steps_per_epoch": 5}},
        "trainer": {"accelerator": "cpu", "max_steps": 4, "limit_val_batches": 0, "logger": False, "callbacks": [],
                    "default_root_dir": str(tmp_path / "run"), "enable_checkpointing": False,
                    "strategy": {"class_path": "lightning.pytorch.strategies.ModelParallelStrategy",
                                 "init_args": {"data_parallel_size": 2, "tensor_parallel_size": 1}}},
    }
    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "ZOO": f"{sys.executable} -m zoo.cli", "SLURM_JOB_NAME": "zoo-test", "SLURM_JOB_ID": "4321",
           "SLURM_NTASKS": "2", "SLURM_NTASKS_PER_NODE": "1", "SLURM_NNODES": "2", "SLURM_JOB_NUM_NODES": "2",
           "SLURM_NODELIST": "127.0.0.1", "SLURM_CPUS_PER_TASK": "1"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "slurm_fit.sbatch"), "configs/grpo/tiny_verifier.yaml",
                           "-c", str(tmp_path / "overlay.yaml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "zoo fit on 2 node(s) x 1 task(s)" in log
    assert "FSDP2 mesh: {'replicate': 2, 'shard': 1}" in log  # Lightning took ranks and nodes from SLURM
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in log
    from zoo.policy.flux import FluxPolicy, TinyFlux

    tiny = yaml.safe_load((ROOT / "configs" / "grpo" / "tiny_verifier.yaml").read_text())
    policy = FluxPolicy(tiny=TinyFlux(**tiny["model"]["init_args"]["policy"]["init_args"]["tiny"]), guidance=1.0)
    policy.load_transformer(tmp_path / "policy")  # trained, shards gathered, exported: loads back
