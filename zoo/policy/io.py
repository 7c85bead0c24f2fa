"""A policy from an experiment YAML and saved weights: `build_policy` (what `zoo bench` and `zoo policy eval` generate
with), `load_weights` and the checks of an export folder."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml
from jsonargparse import ArgumentParser

from zoo.dist.weights import WeightFiles, has_meta
from zoo.policy.base import FlowPolicy
from zoo.settings import SettingsError, integer, number, of_type, parse_json, same_as_built, validate


def build_policy(config: str | Path, weights: str | Path | None = None, device: str | torch.device = "cpu"):
    """The policy of an experiment YAML (its `model.init_args.policy` node) on `device`, with saved weights when
    given: a folder from `FlowPolicy.save` (a `transformer/` inside it, or a LoRA `lora/` folder; a `vae/` in it
    replaces the config's `tiny.vae_from`, a `text_encoders/` its `clip_from` and `t5_from`: those then need not
    exist). A policy the config builds on the meta device (`init_device: meta`) is materialised whole on `device`
    here."""
    with open(config) as f:
        node = (yaml.safe_load(f) or {}).get("model", {}).get("init_args", {}).get("policy")
    if node is None:
        raise ValueError(f"{config}: no model.init_args.policy to build a policy from")
    tiny = (node.get("init_args") or {}).get("tiny") if isinstance(node, dict) else None
    if weights is not None and isinstance(tiny, dict):  # parts the export holds replace the config's sources
        saved = {"vae_from": "vae", "clip_from": "text_encoders", "t5_from": "text_encoders"}
        replaced = {key: None for key, folder in saved.items() if tiny.get(key) and (Path(weights) / folder).is_dir()}
        if replaced:
            node = {**node, "init_args": {**node["init_args"], "tiny": {**tiny, **replaced}}}
    parser = ArgumentParser()
    parser.add_argument("--policy", type=FlowPolicy)
    policy = parser.instantiate_classes(parser.parse_object({"policy": node})).policy
    if weights is not None:
        load_weights(policy, weights)
    policy.materialize(device)
    return policy.to(device).eval()


LORA_FILE = "pytorch_lora_weights.safetensors"
LORA_METADATA = {"transformer.r": integer(1, 4096), "transformer.lora_alpha": number(1e-6, 1e6),
                 "transformer.target_modules": of_type((list, str), "a list of module names or a regex")}


def check_export(policy: FlowPolicy, weights: Path, is_lora: bool) -> None:
    """A policy export is data: its weights are read from safetensors only, a saved transformer's config.json must
    be the config the experiment builds (no other architecture, no extra keys such as auto_map), and LoRA metadata
    must have sane types and ranges. Errors name the file and the key."""
    if is_lora:
        folder = weights / "lora" if (weights / "lora").is_dir() else weights
        path = folder / LORA_FILE
        if not path.is_file():
            raise SettingsError(f"{folder}: no {LORA_FILE} (LoRA weights are read from safetensors only)")
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            raw = (f.metadata() or {}).get("lora_adapter_metadata")
        if raw is not None:
            try:
                meta = parse_json(raw)
            except json.JSONDecodeError as err:
                raise SettingsError(f"{path}: lora_adapter_metadata is not JSON: {err}") from None
            validate({k: v for k, v in meta.items() if k in LORA_METADATA} if isinstance(meta, dict) else meta,
                     LORA_METADATA, f"{path} (lora_adapter_metadata)")
        return
    folder = weights / "transformer"
    if not folder.is_dir():
        raise FileNotFoundError(f"no saved transformer in {folder}")
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.safetensors.index.json")):
        raise SettingsError(f"{folder}: no .safetensors weights (a saved transformer is read from safetensors only)")
    same_as_built(folder / "config.json", dict(policy.transformer.config), ignore=("_use_default_values",))


def load_weights(policy: FlowPolicy, weights: str | Path) -> None:
    """Load a folder from `FlowPolicy.save` into a policy: a `transformer/` inside it, or a LoRA (`lora/` or the
    diffusers LoRA file itself), read by the pipeline's own `load_lora_weights`, and the text encoders when the
    folder has them (`text_encoders/`, a policy trained with `train_text`) and a trained tiny VAE (`vae/`); checked
    first (`check_export`)."""
    weights = Path(weights)
    is_lora = (weights / "lora").is_dir() or (weights / LORA_FILE).is_file()
    check_export(policy, weights, is_lora)
    policy.load_text_encoders(weights)
    policy.load_vae(weights)
    if has_meta(policy.transformer):  # built on meta: its shards are read from the folder when it materialises
        if is_lora:
            raise ValueError(f"{weights} holds LoRA weights, which cannot start a policy built on the meta device yet: "
                             "build it whole (init_device: null), or start from a saved whole transformer")
        policy.weights = WeightFiles(weights / "transformer")
        return
    if is_lora:
        lora = weights / "lora" if (weights / "lora").is_dir() else weights
        policy.pipe.load_lora_weights(str(lora), weight_name=LORA_FILE)
    else:
        policy.load_transformer(weights)
