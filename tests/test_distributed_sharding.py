"""Two CPU processes (gloo) launched by torchrun: sliced reading of pretrained weights into FSDP2 shards (by bytes
read), and activation checkpointing under FSDP2 (the same gradients, the blocks recomputed)."""

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
def test_each_rank_reads_only_its_slices_and_checkpointed_fsdp2_gradients_match(tmp_path):
    from safetensors.torch import load_file, save_file

    from zoo.policy.flux import FluxPolicy
    from zoo.dist.weights import WeightFiles

    sys.path.insert(0, str(Path(__file__).parent / "dist"))
    from rl_common import TINY
    from sliced_loading import odd_shapes

    torch.manual_seed(3)
    FluxPolicy(tiny=TINY, guidance=1.0).transformer.save_pretrained(tmp_path / "weights")
    single = FluxPolicy(tiny=TINY, guidance=1.0, init_device="meta")
    single.weights = WeightFiles(tmp_path / "weights")
    single.materialize("cpu")
    tensors = load_file(next((tmp_path / "weights").glob("*.safetensors")))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    assert single.weights.bytes_read == total  # one process reads every tensor whole

    odd = odd_shapes()
    (tmp_path / "odd").mkdir()
    save_file(odd.state_dict(), str(tmp_path / "odd" / "model.safetensors"))
    out = tmp_path / "report"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29547",
           str(Path(__file__).parent / "dist" / "sliced_loading.py"), str(tmp_path / "weights"), str(out),
           str(tmp_path / "odd")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads(Path(f"{out}.rank{r}").read_text()) for r in (0, 1)]
    reads = [r["bytes_read"] for r in ranks]
    assert sum(reads) == total and all(0.4 * total < b < 0.6 * total for b in reads), (reads, total)
    expected = single.transformer.state_dict()
    assert [r["odd_bytes_read"] for r in ranks] == [4 * (2 * 5 + 2 + 4), 4 * (1 * 5 + 1)]  # rows 2 + 1 and 1 + 0
    for r in (0, 1):
        saved = torch.load(f"{out}.rank{r}.pt", weights_only=True)
        loaded = saved["policy"]
        assert all(torch.equal(saved["odd"][k], v) for k, v in odd.state_dict().items())
        assert ranks[r]["all_sharded"] and loaded.keys() == expected.keys()
        assert all(torch.equal(loaded[k], expected[k]) for k in expected), f"rank {r} loaded other weights"
        assert ranks[r]["grad_norm"] > 0 and ranks[r]["max_grad_diff"] < 1e-6
        assert ranks[r]["calls_checkpointed"] == 2 * ranks[r]["calls"]  # recomputed in the backward pass
