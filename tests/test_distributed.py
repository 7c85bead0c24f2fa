"""Two CPU processes (gloo) launched by torchrun: exactly-once validation and prompt groups across ranks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

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
    from zoo.reward.internvl import InternVLBackbone, TinyInternVL
    from zoo.reward.qwen_vl import QwenVLBackbone
    from zoo.reward.scorer import load

    TINY_INTERNVL = TinyInternVL(image_size=48, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                                 vision_hidden_size=32, vision_layers=1, vision_heads=2)
    checkpoint = tmp_path / "ckpt"
    sys.path.insert(0, str(Path(__file__).parent / "dist"))
    from reward_parallel import TINY  # the sizes the script trains at
    internvl = tmp_path / "internvl"  # a second family, built on meta from its checkpoint under FSDP2
    for folder, backbone in ((checkpoint, QwenVLBackbone(tiny=TINY)), (internvl, InternVLBackbone(tiny=TINY_INTERNVL))):
        backbone.model.save_pretrained(folder)
        backbone.inputs.tokenizer.save_pretrained(folder)
        backbone.inputs.image_processor.save_pretrained(folder)
    internvl_bytes = sum(p.numel() * p.element_size() for p in backbone.model.parameters())
    out = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           str(Path(__file__).parent / "dist" / "reward_parallel.py"), str(spatial_set / "pairs" / "train-*.tar"),
           str(spatial_set / "pairs" / "val-*.tar"), str(out), str(checkpoint), str(tmp_path / "export"), str(internvl)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ddp"]["step"] == 3 and not report["ddp"]["sharded"]
    assert report["fsdp2"]["step"] == 3 and report["fsdp2"]["sharded"]
    vl = report["internvl"]  # every block sharded, nothing left on meta, rank 0 read its shards only
    assert vl["step"] == 3 and vl["blocks_sharded"] and not vl["meta_left"] and 0 < vl["bytes_read"] < internvl_bytes
    for name in ("ddp", "fsdp2", "internvl"):
        assert report[name]["loss"] == report[name]["loss"]  # finite
        scorer = load(tmp_path / "export" / name)
        assert scorer.meta["weights"] == ("full" if name == "ddp" else "adapter")
    # caption pretraining and SFT go through the same configure_model and export at fit end: blocks sharded,
    # checkpointed and computed in bf16; the export holds the gathered weights (not one rank's shards)
    for name, saved in (("caption", tmp_path / "export" / "caption" / "model"),
                        ("sft", tmp_path / "export" / "sft" / "transformer")):
        run = report[name]
        assert run["step"] == 2 and run["blocks_sharded"] and run["checkpointed"] and run["bf16"], (name, run)
        weights = load_file(next(saved.glob("*.safetensors")))
        assert run["first_block"]
        for key, value in run["first_block"].items():  # saved names may carry another prefix (HF conversions)
            tail = key[key.rindex("layers.0.") if "layers.0." in key else key.index("transformer_blocks.0."):]
            (found,) = [v for k, v in weights.items() if k == tail or k.endswith("." + tail)]
            assert torch.allclose(found.float(), torch.tensor(value)), (name, key)


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


@pytest.mark.slow
def test_grpo_trains_with_ddp_and_fsdp2_on_two_processes_and_resumes_sharded(spatial_set, tmp_path):
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    torch.manual_seed(0)
    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    export_scorer(RewardModel(QwenVLBackbone(tiny=tiny), "linear"), tmp_path / "scorer")
    out = tmp_path / "grpo.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29537",
           str(Path(__file__).parent / "dist" / "grpo_parallel.py"), str(spatial_set / "prompts" / "train-*.tar"),
           str(tmp_path / "scorer"), str(out), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads(Path(f"{out}.rank{r}").read_text()) for r in (0, 1)]
    ddp = [r["ddp"] for r in ranks]
    assert ddp[0]["step"] == 4 and ddp[0]["param_sum"] == ddp[1]["param_sum"]  # replicas stay identical
    assert ddp[0]["stats"]["reward_mean"] == ddp[1]["stats"]["reward_mean"]  # rewards gathered before advantages
    assert ddp[0]["stats"]["first_ratio_min"] == ddp[0]["stats"]["first_ratio_max"] == 1.0
    for r in ranks:
        f = r["fsdp2"]
        assert f["step"] == 4 and f["policy_sharded"] and f["reward_unsharded"] == [] and f["ema_sharded"]
        assert f["resumed_equal"] and f["ema_resumed_equal"] and f["lora_params"] > 0
        assert f["ckpt_trainable_only"] and f["ckpt_frozen_parts"] == ["policy", "reward"]
        assert f["fingerprint_mismatch"] is None  # the same whether the frozen parts are sharded or not
        assert f["stats"]["kl_ref"] > 0 and f["stats"]["first_ratio_min"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("per_node", [1, 2])
def test_two_nodes_train_grpo_and_reward_with_hybrid_sharding_from_meta(spatial_set, tmp_path, per_node):
    """Two torchrun agents with c10d rendezvous, `per_node` processes each: two "nodes" on a 2-D (replicate, shard)
    mesh; with 2 per node the parameters are sharded within each node too."""
    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    torch.manual_seed(0)
    tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                      vision_hidden_size=32, vision_layers=1, vision_heads=2)
    export_scorer(RewardModel(QwenVLBackbone(tiny=tiny), "linear"), tmp_path / "scorer")
    checkpoint = tmp_path / "ckpt"  # a "pretrained" reward backbone, read shard by shard from its safetensors
    backbone = QwenVLBackbone(tiny=TinyQwenVL(image_size=48, patch_size=8, hidden_size=32, layers=2, heads=2,
                                              kv_heads=1, vision_hidden_size=32, vision_layers=1, vision_heads=2))
    backbone.model.save_pretrained(checkpoint)
    backbone.inputs.tokenizer.save_pretrained(checkpoint)
    backbone.inputs.image_processor.save_pretrained(checkpoint)
    out = tmp_path / "hybrid.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", str(per_node),
           "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{29539 + 2 * per_node}", "--rdzv_id",
           f"zoo-hybrid-{per_node}",
           str(Path(__file__).parent / "dist" / "hybrid_nodes.py"), str(spatial_set / "prompts" / "train-*.tar"),
           str(tmp_path / "scorer"), str(spatial_set / "pairs" / "train-*.tar"), str(checkpoint), str(out),
           str(tmp_path)]
    nodes = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    logs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    world = 2 * per_node
    ranks = [json.loads(Path(f"{out}.rank{r}").read_text()) for r in range(world)]
    assert sorted(r["group_rank"] for r in ranks) == sorted([0, 1] * per_node)  # two nodes
    assert all(r["world"] == world for r in ranks)
    for r in ranks:
        for layout in (r["grpo"]["policy"], r["grpo"]["reward"], r["reward"]["backbone"]):
            assert layout["all_dtensor"] and not layout["meta"]  # sharded, then materialised
            assert layout["mesh"] == ["replicate", "shard"] and layout["mesh_shape"] == [2, per_node]
            assert layout["placements"] == ["R", "S(0)"]
        assert r["grpo"]["policy"]["dtypes"] == ["torch.bfloat16"] and r["grpo"]["policy"]["lora_dtypes"] == ["torch.float32"]
        assert r["grpo"]["step"] == 2 and r["grpo"]["checkpointed"] and r["grpo"]["stats"]["first_ratio_min"] == 1.0
        assert r["reward"]["step"] == 2 and r["reward"]["pretrained_loaded"] and r["reward"]["n_frozen"] > 0
    assert ranks[0]["grpo"]["prompts"] != ranks[-1]["grpo"]["prompts"]  # each node rolls out its own groups...
    for part in ("grpo", "reward"):  # ...and the replicas stay identical: gradients reduced across nodes
        assert len({r[part]["lora_sum"] for r in ranks}) == 1 and ranks[0][part]["lora_sum"] != 0
