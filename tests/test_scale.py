"""Real-size architectures built on the meta device, materialisation (random or from safetensors), checkpointing."""

from __future__ import annotations

import re

import pytest
import torch
from PIL import Image

from zoo.dist.fsdp import checkpoint_blocks
from zoo.dist.weights import WeightFiles, has_meta
from zoo.policy.flux import FLUX_DEV, FluxPolicy, LoraSpec, TinyFlux, build_transformer
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL

TINY_FLUX = TinyFlux(image_size=16, pixel_factor=2, layers=1, single_layers=1, heads=2, head_dim=16,
                     axes_dims_rope=(4, 6, 6), text_dim=32, max_sequence_length=40)
TINY_QWEN = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=2, heads=2, kv_heads=1,
                       vision_hidden_size=32, vision_layers=1, vision_heads=2)


def test_flux_dev_transformer_builds_on_meta_with_its_real_parameter_count():
    transformer = build_transformer(FLUX_DEV, "meta")
    params = list(transformer.parameters())
    assert all(p.is_meta for p in params)  # shapes only: nothing allocated
    assert sum(p.numel() for p in params) == 11_901_408_320  # Flux.1-dev's 11.9 B
    assert len(transformer.transformer_blocks) == 19 and len(transformer.single_transformer_blocks) == 38


def test_qwen2_5_vl_7b_builds_on_meta_with_its_real_parameter_count():
    backbone = QwenVLBackbone(architecture="qwen2_5_vl_7b", init_device="meta", dtype="bfloat16")
    params = list(backbone.model.parameters())
    assert all(p.is_meta for p in params) and {p.dtype for p in params} == {torch.bfloat16}
    assert sum(p.numel() for p in params) == 8_292_166_656  # Qwen2.5-VL-7B-Instruct (LM head included)
    config = backbone.model.config
    assert (config.text_config.hidden_size, config.vision_config.depth, config.vision_config.window_size) == (3584, 32, 112)
    assert backbone.inputs.image_processor.patch_size == 14


def test_meta_policy_materialises_with_bf16_weights_fp32_lora_and_lora_as_identity():
    torch.manual_seed(0)
    policy = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, lora=LoraSpec(r=4, alpha=8), dtype="bfloat16", init_device="meta")
    assert has_meta(policy.transformer)
    policy.materialize("cpu")
    assert not has_meta(policy.transformer)
    named = dict(policy.transformer.named_parameters())
    assert {p.dtype for n, p in named.items() if "lora_" not in n} == {torch.bfloat16}
    assert {p.dtype for n, p in named.items() if "lora_" in n} == {torch.float32}
    assert all(float(p.abs().sum()) == 0 for n, p in named.items() if "lora_B" in n)
    assert all(float(p.std()) > 0 for n, p in named.items() if p.ndim == 2 and "lora_B" not in n)
    tokens = policy.noise([1, 2])
    text = policy.encode_text(["a red circle", "a blue square"])
    with torch.no_grad():
        out = policy.velocity(tokens, 0.5, text)
        with policy.adapters_disabled():
            base = policy.velocity(tokens, 0.5, text)
    assert torch.isfinite(out).all() and torch.equal(out, base)


def test_meta_backbone_reads_its_checkpoint_tensor_by_tensor(tmp_path):
    torch.manual_seed(0)
    saved = QwenVLBackbone(tiny=TINY_QWEN)
    saved.model.save_pretrained(tmp_path)
    saved.inputs.tokenizer.save_pretrained(tmp_path)
    saved.inputs.image_processor.save_pretrained(tmp_path)
    backbone = QwenVLBackbone(pretrained=str(tmp_path), template="{image}{prompt}", min_pixels=32 * 32,
                              max_pixels=32 * 32, init_device="meta")
    assert has_meta(backbone.model)
    backbone.materialize("cpu")
    reference = saved.model.state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in backbone.model.state_dict().items() if k in reference)
    image = Image.new("RGB", (32, 32), "white")
    batch = backbone.inputs(["a red circle"], [image])
    assert torch.allclose(backbone(batch), saved(saved.inputs(["a red circle"], [image])), atol=1e-5)


def test_weight_files_name_what_the_checkpoint_lacks(tmp_path):
    torch.manual_seed(0)
    transformer = build_transformer(dict(patch_size=1, in_channels=48, num_layers=1, num_single_layers=1,
                                         attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, guidance_embeds=True, axes_dims_rope=(4, 6, 6)))
    transformer.save_pretrained(tmp_path / "transformer")
    policy = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, init_device="meta")
    policy.weights = WeightFiles(tmp_path / "transformer")
    policy.materialize("cpu")
    assert all(torch.equal(a, b) for a, b in zip(policy.transformer.state_dict().values(),
                                                 transformer.state_dict().values()))
    smaller = {k: v for k, v in transformer.state_dict().items() if "proj_out" not in k}
    from safetensors.torch import save_file
    (tmp_path / "partial").mkdir()
    save_file(smaller, tmp_path / "partial" / "model.safetensors")
    other = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, init_device="meta")
    other.weights = WeightFiles(tmp_path / "partial")
    with pytest.raises(ValueError, match="proj_out"):
        other.materialize("cpu")


def test_activation_checkpointing_recomputes_blocks_and_gives_the_same_gradients():
    import copy

    grads, calls = [], []
    for checkpointed in (False, True):
        torch.manual_seed(0)
        policy = FluxPolicy(tiny=TINY_FLUX, guidance=1.0)
        blocks = list(policy.transformer.transformer_blocks) + list(policy.transformer.single_transformer_blocks)
        if checkpointed:
            checkpoint_blocks(blocks)
            checkpoint_blocks(blocks)  # once only
            assert all(b._zoo_checkpointed for b in blocks)
            copied = copy.deepcopy(blocks[0])  # a copy (the frozen reference) is checkpointed on its own weights
            assert copied.forward.__self__ is copied
        count = [0]
        inner = next(m for m in blocks[0].modules() if isinstance(m, torch.nn.Linear))
        inner.register_forward_hook(lambda *_, count=count: count.__setitem__(0, count[0] + 1))
        images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
        loss = policy.flow_matching_loss(images, ["a red circle", "a blue square"], torch.Generator().manual_seed(2))
        loss.backward()
        grads.append([p.grad.clone() for p in policy.transformer.parameters()])
        calls.append(count[0])
    assert calls[1] == 2 * calls[0]  # the block ran again in the backward pass
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*grads))


def test_library_code_uses_no_private_torch_distributed_module():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [p for folder in ("zoo", "modules", "callbacks") for p in (root / folder).rglob("*.py")]
    used = [str(p.relative_to(root)) for p in files if re.search(r"torch\.distributed\.(\w+\.)*_[a-z]", p.read_text())]
    assert used == []


def _cli(config: str, overlay: dict, tmp_path, *overrides: str):
    """The CLI on a shipped config plus a second YAML (a `null` given on the command line reaches nested init_args
    as the string 'None'; a second -c file carries it as null)."""
    import yaml

    from zoo.cli import ZooCLI

    (tmp_path / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    return ZooCLI(args=["-c", config, "-c", str(tmp_path / "overlay.yaml"), *overrides, "--trainer.logger", "false",
                        "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.strategy", "auto"],
                  run=False)


def test_the_paper_reward_config_builds_qwen2_5_vl_7b_on_meta_with_fp32_lora(tmp_path):
    random = {"pretrained": None, "architecture": "qwen2_5_vl_7b"}
    cli = _cli("configs/reward/qwen2_5_vl_7b_lora_fsdp2.yaml",
               {"model": {"init_args": {"backbone": {"init_args": random}}}}, tmp_path)
    model, hp = cli.model.model, cli.model.hparams
    assert hp.activation_checkpointing and hp.param_dtype == "bfloat16" and cli.trainer.precision == "32-true"
    base = {n: p for n, p in model.backbone.model.named_parameters() if "lora_" not in n}
    assert all(p.is_meta for p in base.values()) and sum(p.numel() for p in base.values()) == 8_292_166_656
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and {p.dtype for p in trainable} == {torch.float32}  # LoRA r64, head, reward token
    assert {p.dtype for p in base.values()} == {torch.bfloat16}


def test_the_paper_grpo_config_builds_flux_dev_on_meta(tmp_path):
    from zoo.reward.model import RewardModel
    from zoo.reward.scorer import export_scorer

    scorer = export_scorer(RewardModel(QwenVLBackbone(tiny=TINY_QWEN), "linear"), tmp_path / "scorer")
    random = {"pretrained": None, "architecture": "flux_dev"}
    cli = _cli("configs/grpo/flux_dev_spatialscore_fsdp2.yaml", {"model": {"init_args": {"policy": {"init_args": random}}}},
               tmp_path, "--model.init_args.reward.init_args.folder", str(scorer))
    transformer, hp = cli.model.policy.transformer, cli.model.hparams
    assert hp.activation_checkpointing and hp.param_dtype == "bfloat16"
    base = [p for n, p in transformer.named_parameters() if "lora_" not in n]
    lora = [p for n, p in transformer.named_parameters() if "lora_" in n]
    assert all(p.is_meta for p in transformer.parameters())
    assert sum(p.numel() for p in base) == 11_901_408_320 and {p.dtype for p in base} == {torch.bfloat16}
    assert lora and {p.dtype for p in lora} == {torch.float32} and all(p.requires_grad for p in lora)
    assert cli.model.policy.image_seq_len == 1024 and cli.model.policy.max_sequence_length == 512


def test_a_meta_built_lora_policy_starts_from_a_saved_whole_transformer(tmp_path):
    from zoo.policy.io import load_weights

    torch.manual_seed(0)
    saved = FluxPolicy(tiny=TINY_FLUX, guidance=1.0)
    saved.save(tmp_path / "sft")  # what SFT exports: transformer/
    policy = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, lora=LoraSpec(r=4, alpha=8), init_device="meta")
    load_weights(policy, tmp_path / "sft")
    policy.materialize("cpu")
    with policy.adapters_disabled():
        base = {k.replace(".base_layer", ""): v for k, v in policy.transformer.state_dict().items() if "lora_" not in k}
    assert all(torch.equal(v, base[k]) for k, v in saved.transformer.state_dict().items())
    saved_lora = FluxPolicy(tiny=TINY_FLUX, guidance=1.0, lora=LoraSpec(r=4, alpha=8))
    saved_lora.save(tmp_path / "grpo")  # lora/: not readable into a meta-built policy yet, and says so
    with pytest.raises(ValueError, match="LoRA weights"):
        load_weights(FluxPolicy(tiny=TINY_FLUX, guidance=1.0, init_device="meta"), tmp_path / "grpo")


def test_hybrid_mesh_must_split_the_ranks_evenly():
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh

    from zoo.dist.fsdp import fsdp_mesh

    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1, 1), mesh_dim_names=("data_parallel", "tensor_parallel"))
        assert fsdp_mesh(mesh).mesh_dim_names == ("data_parallel",)
        assert fsdp_mesh(mesh, replicate=1).mesh_dim_names == ("data_parallel",)
        with pytest.raises(ValueError, match="2 equal replica groups"):
            fsdp_mesh(mesh, replicate=2)
    finally:
        dist.destroy_process_group()


def test_build_policy_materialises_a_meta_config_with_its_saved_weights(tmp_path):
    """What `zoo data construct` / `zoo policy eval` do with a paper-style config (init_device: meta), one process."""
    import yaml

    from zoo.policy.io import build_policy
    from zoo.dist.weights import has_meta

    torch.manual_seed(0)
    saved = FluxPolicy(tiny=TINY_FLUX, guidance=1.0)
    saved.save(tmp_path / "sft")
    node = {"class_path": "zoo.policy.flux.FluxPolicy",
            "init_args": {"tiny": dict(vars(TINY_FLUX)), "guidance": 1.0, "init_device": "meta"}}
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({"model": {"init_args": {"policy": node}}}))
    policy = build_policy(tmp_path / "exp.yaml", tmp_path / "sft")
    assert not has_meta(policy.transformer)
    assert all(torch.equal(v, policy.transformer.state_dict()[k]) for k, v in saved.transformer.state_dict().items())
    images, _ = policy.generate(["a red circle above a blue square"], [3], steps=2)
    expected, _ = saved.eval().generate(["a red circle above a blue square"], [3], steps=2)
    assert torch.allclose(images, expected, atol=1e-5)
