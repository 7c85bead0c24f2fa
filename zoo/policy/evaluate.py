"""`zoo policy eval`: generate images for held-out SpatialShapes prompts and judge them with the world verifier."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml
from jsonargparse import ArgumentParser

from zoo.bench.spatialbench import load_spatialbench, verdict_means, verify_images
from zoo.images import save_grid
from zoo.policy.base import FlowPolicy
from zoo.reward.sharding import WeightFiles, has_meta
from zoo.settings import SettingsError, integer, number, of_type, parse_json, same_as_built, validate


def evaluate_policy(policy, prompts: str | list[str], count: int = 200, steps: int = 8, batch_size: int = 32,
                    seed: int = 0, out: Path | None = None) -> dict[str, float]:
    """Verified spatial accuracy of a policy on the first `count` prompts of a prompt shard set."""
    from zoo.bench.run import image_seed  # the seeds `zoo bench` uses, so both commands give the same images

    items = load_spatialbench(prompts, count)
    texts = [item.prompt for item in items]
    seeds = [image_seed(seed, item.id, 0) for item in items]
    images, _ = policy.generate(texts, seeds, steps=steps, batch_size=batch_size)
    rows = verify_images(images, [item.data["scene"] for item in items])
    summary = {"prompts": len(rows), **verdict_means(rows)}
    if out is not None:
        out = Path(out)
        save_grid(images[:64], out / "samples.png")
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        with open(out / "samples.jsonl", "w") as f:
            for item, row in zip(items, rows):
                f.write(json.dumps({"item": item.id, "prompt": item.prompt, **row}) + "\n")
    return summary


def build_policy(config: str | Path, weights: str | Path | None = None, device: str | torch.device = "cpu"):
    """The policy of an experiment YAML (its `model.init_args.policy` node) on `device`, with saved weights when
    given: a folder from `FlowPolicy.save` (a `transformer/` inside it, or a LoRA `lora/` folder; a `vae/` in it
    replaces the config's `tiny.vae_from`, which then need not exist). A policy the
    config builds on the meta device (`init_device: meta`) is materialised whole on `device` here."""
    with open(config) as f:
        node = (yaml.safe_load(f) or {}).get("model", {}).get("init_args", {}).get("policy")
    if node is None:
        raise ValueError(f"{config}: no model.init_args.policy to build a policy from")
    tiny = (node.get("init_args") or {}).get("tiny") if isinstance(node, dict) else None
    if weights is not None and (Path(weights) / "vae").is_dir() and isinstance(tiny, dict) and tiny.get("vae_from"):
        node = {**node, "init_args": {**node["init_args"], "tiny": {**tiny, "vae_from": None}}}  # the saved VAE
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


def policy_eval(experiment: str, prompts: str, weights: str | None = None, count: int = 200, steps: int = 8,
                batch_size: int = 32, seed: int = 0, out: str | None = None) -> dict[str, float]:
    """Generate images for held-out SpatialShapes prompts with a policy and judge them with the world verifier.

    Args:
        experiment: an experiment YAML (e.g. configs/sft/tiny_flux.yaml); its model.init_args.policy is built.
        prompts: prompt shards (path, glob, brace pattern), e.g. data/spatialshapes/prompts/test-*.tar.
        weights: a folder written by the module's export (transformer/ or lora/); None = the config's weights.
        count: how many prompts (the first ones, in shard order).
        steps: sampling steps (ODE).
        batch_size: images per forward pass.
        seed: base seed; each prompt's image seed comes from it and the prompt's id, as in `zoo bench`.
        out: folder for summary.json, samples.jsonl and samples.png (a grid of the first 64).
    """
    policy = build_policy(experiment, weights)
    with torch.no_grad():
        summary = evaluate_policy(policy, prompts, count, steps, batch_size, seed, Path(out) if out else None)
    print(json.dumps(summary, indent=2))
    return summary
