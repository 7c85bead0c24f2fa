"""A LoRA scorer's adapter in peft's own format: `adapter/adapter_config.json` + `adapter/adapter_model.safetensors`.

`peft.PeftModel.from_pretrained(base_model, "<scorer>/adapter")` reads it (the base being the checkpoint that
scorer.json names in backbone 'pretrained'). On load, adapter_config.json is checked like every folder setting: only
plain LoRA (what zoo trains and rebuilds) is accepted; a key this peft does not know, or a LoRA variant (DoRA, rank
patterns, ...) set away from its default, fails naming the file and the key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from zoo.reward.parts import TrainableParts
from zoo.settings import SettingsError, read_json

ADAPTER_DIR = "adapter"
CONFIG_FILE, WEIGHTS_FILE = "adapter_config.json", "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."  # how a PeftModel names the base model's modules in its saved adapters
# keys zoo writes itself, or peft's bookkeeping: any value of the right kind is fine
FREE = {"r", "lora_alpha", "target_modules", "lora_dropout", "base_model_name_or_path", "revision", "peft_type",
        "task_type", "inference_mode", "peft_version"}


def _peft_key(name: str) -> str:
    """A backbone-model parameter name as peft saves it: adapter name ('default') dropped, PeftModel prefix added."""
    return PEFT_PREFIX + re.sub(r"\.default(?=\.)", "", name)


def save_adapter(inner: dict[str, torch.Tensor], parts: TrainableParts, backbone: Any, folder: Path) -> None:
    """Write the LoRA tensors of a backbone-model state dict and their LoraConfig into `folder` (peft's layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = parts.lora_config(backbone)
    config.base_model_name_or_path = backbone.pretrained
    config.inference_mode = True
    config.save_pretrained(str(folder))
    tensors = {_peft_key(k): v.contiguous() for k, v in inner.items() if "lora_" in k}
    save_file(tensors, folder / WEIGHTS_FILE, metadata={"format": "pt"})


def _json_value(value: Any) -> Any:
    """A LoraConfig default as it reads back from JSON (sets and tuples become lists)."""
    return json.loads(json.dumps(value, default=lambda v: sorted(v) if isinstance(v, set) else str(v)))


def _check_keys(data: dict[str, Any], where: Path) -> None:
    """Every key a field of this peft's LoraConfig; those zoo does not rebuild at their defaults."""
    from peft import LoraConfig

    defaults = LoraConfig().to_dict()
    for key, value in data.items():
        if key not in defaults:
            raise SettingsError(f"{where}: unknown key {key!r} (not a field of peft's LoraConfig here)")
        if key not in FREE and value != _json_value(defaults[key]):
            raise SettingsError(f"{where}: {key!r} = {value!r} is not supported (zoo rebuilds plain LoRA only; "
                                f"the default is {_json_value(defaults[key])!r})")


def read_adapter_parts(folder: Path) -> TrainableParts:
    """The TrainableParts (rank, alpha, targets) of a peft adapter folder, its adapter_config.json checked."""
    path = folder / CONFIG_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a JSON object")
    _check_keys(data, path)
    if data.get("peft_type") != "LORA":
        raise SettingsError(f"{path}: 'peft_type' must be 'LORA', got {data.get('peft_type')!r}")
    r, alpha, targets = data.get("r"), data.get("lora_alpha"), data.get("target_modules")
    if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 4096:
        raise SettingsError(f"{path}: 'r' must be an integer in [1, 4096], got {r!r}")
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 1e-6 <= alpha <= 1e6:
        raise SettingsError(f"{path}: 'lora_alpha' must be a number in [1e-06, 1000000.0], got {alpha!r}")
    if not (isinstance(targets, str) or (isinstance(targets, list) and targets
                                         and all(isinstance(t, str) for t in targets))):
        raise SettingsError(f"{path}: 'target_modules' must be a regex or a list of module names, got {targets!r}")
    return TrainableParts(mode="lora", lora_r=r, lora_alpha=alpha, lora_targets=targets)


def load_adapter_tensors(folder: Path) -> dict[str, torch.Tensor]:
    """The adapter's tensors named as `peft.set_peft_model_state_dict` takes them on an injected (non-Peft) model."""
    tensors = load_file(folder / WEIGHTS_FILE)
    return {k.removeprefix(PEFT_PREFIX): v for k, v in tensors.items()}
