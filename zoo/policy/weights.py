"""Saving and loading a policy's trained parts: the transformer (whole or LoRA, diffusers' formats), trained text
encoders and a trained tiny VAE; a mixin of `FlowPolicy` (it uses the policy's `pipe`, `transformer`, `lora`,
`text_encoders` and `tiny`)."""

from __future__ import annotations

from pathlib import Path

import torch
from peft.utils import get_peft_model_state_dict

from zoo.policy.vae import load_vae_weights
from zoo.settings import same_as_built

SAVED_CONFIG_EXTRAS = ("architectures", "transformers_version", "dtype", "torch_dtype")  # written by save_pretrained


class PolicyWeights:
    """The save/load half of a policy: `save` writes what was trained, the `load_*` methods read it back."""

    def save(self, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
        """The trained part: LoRA weights (diffusers format) or the whole transformer (save_pretrained);
        `state_dict`: the transformer's full state when it is sharded (FSDP2 gathers it first)."""
        folder = Path(folder)
        if self.text_weights:
            self.save_text_encoders(folder)
        if self.vae_weights:
            self.pipe.vae.save_pretrained(folder / "vae", safe_serialization=True)
        if self.lora is not None:
            return self.save_lora(folder / "lora", state_dict)
        if state_dict is None:
            self.transformer.save_pretrained(folder / "transformer", safe_serialization=True)
            return folder
        # gathered shards: written directly (save_pretrained also reads the sharded module's own storages)
        from safetensors.torch import save_file

        out = folder / "transformer"
        out.mkdir(parents=True, exist_ok=True)
        self.transformer.save_config(out)
        save_file({k: v.contiguous() for k, v in state_dict.items()}, out / "diffusion_pytorch_model.safetensors")
        return folder

    def save_text_encoders(self, folder: str | Path) -> None:
        """The text encoders (trained with `train_text`) in `folder/text_encoders/<name>/` (save_pretrained)."""
        for name, encoder in zip(self.text_encoder_names, self.text_encoders):
            encoder.save_pretrained(Path(folder) / "text_encoders" / name, safe_serialization=True)

    def load_text_encoders(self, folder: str | Path) -> bool:
        """Load text encoders saved by `save` (a policy whose encoders were trained); False when there are none."""
        root = Path(folder) / "text_encoders"
        if not root.is_dir():
            return False
        for name, encoder in zip(self.text_encoder_names, self.text_encoders):
            if not (root / name).is_dir():
                raise FileNotFoundError(f"{root} lacks the saved text encoder {name!r}")
            # a saved folder is data: its config must be the one built here, its weights safetensors
            same_as_built(root / name / "config.json", encoder.config.to_dict(), ignore=SAVED_CONFIG_EXTRAS)
            saved = type(encoder).from_pretrained(root / name, use_safetensors=True)
            encoder.load_state_dict(saved.state_dict())
        self._text_cache.clear()
        self.text_weights = True
        return True

    def load_vae(self, folder: str | Path) -> bool:
        """Load the trained tiny VAE saved by `save` (`folder/vae/`, sizes checked); False when there is none."""
        if not (Path(folder) / "vae").is_dir():
            return False
        if self.tiny is None:
            raise ValueError(f"{folder}/vae: a saved tiny VAE cannot go into a pretrained pipeline's own VAE")
        load_vae_weights(self.pipe.vae, Path(folder) / "vae")
        self.vae_weights = True
        return True

    def load_transformer(self, folder: str | Path) -> None:
        """Load a transformer saved by `save` (e.g. the SFT policy GRPO starts from)."""
        path = Path(folder) / "transformer"
        if self.lora is not None:
            raise ValueError(f"cannot load a whole transformer ({path}) into a policy with LoRA adapters: "
                             "build the policy without `lora`, or start from a LoRA folder")
        if not path.is_dir():
            raise FileNotFoundError(f"no saved transformer in {path}")
        saved = type(self.transformer).from_pretrained(path)
        self.transformer.load_state_dict(saved.state_dict())

    def save_lora(self, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
        """LoRA weights in diffusers' format: the pipeline's own `load_lora_weights(folder)` reads them back."""
        if self.lora is None:
            raise ValueError("this policy has no LoRA adapters to save")
        layers = get_peft_model_state_dict(self.transformer, state_dict=state_dict)
        config = self.transformer.peft_config["default"].to_dict()  # rank and alpha travel with the weights
        type(self.pipe).save_lora_weights(str(folder), transformer_lora_layers=layers, safe_serialization=True,
                                          transformer_lora_adapter_metadata=config)
        return Path(folder)
