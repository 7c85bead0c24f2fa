"""Self-contained scorer folders: export a trained RewardModel, load it back, score (prompt, image) lists.

Layout (format zoo-scorer/2): scorer.json (backbone settings, head kind, weights kind), model/ (full weights,
safetensors, via save_pretrained) or adapter/ (LoRA in peft's format: adapter_config.json + adapter_model.safetensors,
over the base checkpoint named in scorer.json), head.safetensors, reward_token.safetensors (the added token's
embedding), tokenizer/, image_processor/. Folders of format zoo-scorer/1 (adapter.safetensors, LoRA settings in
scorer.json) still load. `Scorer.from_pretrained` also takes a Hugging Face Hub id. This is what GRPO calls.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from zoo.reward.backbones import get_backbone_class
from zoo.reward.model import RewardModel
from zoo.reward.parts import TrainableParts, inject_lora
from zoo.reward.scorer_adapter import ADAPTER_DIR, load_adapter_tensors, read_adapter_parts, save_adapter
from zoo.reward.scorer_hub import ScorerFolderError, resolve_scorer, upload_scorer
from zoo.reward.scorer_settings import FORMAT, FORMAT_V1, check_processor, read_scorer_settings

T, R = TypeVar("T"), TypeVar("R")
REQUIRED = ("scorer.json", "head.safetensors", "tokenizer", "image_processor")


@contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `folder` that replaces it when the block succeeds (removed if it fails)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield tmp
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def export_scorer(model: RewardModel, folder: Path, parts: TrainableParts | None = None,
                  state_dict: dict[str, torch.Tensor] | None = None, extra: dict | None = None) -> Path:
    """Write a scorer folder atomically (a temporary folder renamed into place).

    `state_dict` is a full (unsharded) state dict of `model` gathered from FSDP2 shards; without it
    the model's own (unsharded) weights are written.
    """
    with atomic_folder(folder) as tmp:
        state = {k: v.detach().cpu() for k, v in (state_dict if state_dict is not None else model.state_dict()).items()}
        backbone = model.backbone
        inner = {k[len("backbone.model."):]: v for k, v in state.items() if k.startswith("backbone.model.")}
        lora = parts is not None and parts.mode == "lora" and backbone.pretrained is not None
        if lora:
            save_adapter(inner, parts, backbone, tmp / ADAPTER_DIR)
        else:
            target = backbone.rebuild() if state_dict is not None else backbone
            if state_dict is not None:
                target.model.load_state_dict(inner)
            target.model.save_pretrained(tmp / "model", safe_serialization=True)
        backbone.inputs.tokenizer.save_pretrained(tmp / "tokenizer")
        backbone.inputs.image_processor.save_pretrained(tmp / "image_processor")
        head = {k[len("head."):]: v.contiguous() for k, v in state.items() if k.startswith("head.")}
        save_file(head, tmp / "head.safetensors")
        if "backbone.reward_token.weight" in state:
            save_file({"reward_embedding": state["backbone.reward_token.weight"].contiguous()},
                      tmp / "reward_token.safetensors")
        meta = {"format": FORMAT, "backbone": backbone.export_settings(), "head": model.head_kind,
                "weights": "adapter" if lora else "full", "extra": extra or {}}
        (tmp / "scorer.json").write_text(json.dumps(meta, indent=2))
    return Path(folder)


def export_backbone(backbone, folder: Path, state_dict: dict[str, torch.Tensor] | None = None) -> Path:
    """Write a backbone's weights (model/, safetensors), tokenizer and image processor: what
    `RewardModule(init_from=...)` starts from after caption pretraining."""
    with atomic_folder(folder) as tmp:
        target = backbone
        if state_dict is not None:
            target = backbone.rebuild()
            target.model.load_state_dict({k[len("model."):]: v for k, v in state_dict.items() if k.startswith("model.")})
        target.model.save_pretrained(tmp / "model", safe_serialization=True)
        backbone.inputs.tokenizer.save_pretrained(tmp / "tokenizer")
        backbone.inputs.image_processor.save_pretrained(tmp / "image_processor")
    return Path(folder)


def _adapter(folder: Path, meta: dict[str, Any]) -> tuple[TrainableParts, dict[str, torch.Tensor]]:
    """The LoRA settings and tensors of an adapter scorer: adapter/ (peft's format), or a zoo-scorer/1 folder's
    adapter.safetensors with its settings in scorer.json."""
    if meta["format"] == FORMAT_V1:
        if not (folder / "adapter.safetensors").exists():
            raise ScorerFolderError(f"scorer folder {folder} lacks 'adapter.safetensors'")
        lora = meta["lora"]
        parts = TrainableParts(mode="lora", lora_r=lora["r"], lora_alpha=lora["alpha"], lora_targets=lora["targets"])
        return parts, load_file(folder / "adapter.safetensors")
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        if not (folder / ADAPTER_DIR / name).exists():
            raise ScorerFolderError(f"scorer folder {folder} lacks '{ADAPTER_DIR}/{name}'")
    return read_adapter_parts(folder / ADAPTER_DIR), load_adapter_tensors(folder / ADAPTER_DIR)


def _load(folder: Path, device: str | torch.device,
          trust_remote_code: bool) -> tuple[RewardModel, dict[str, Any], TrainableParts | None]:
    """load_reward_model, plus the LoRA parts of an adapter scorer (None for full weights)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScorerFolderError(f"scorer folder not found: {folder}")
    missing = [name for name in REQUIRED if not (folder / name).exists()]
    if missing:
        raise ScorerFolderError(f"scorer folder {folder} lacks {missing}")
    meta = read_scorer_settings(folder / "scorer.json")
    settings = dict(meta["backbone"])
    kind = settings.pop("class")
    weights = folder / "model" if meta["weights"] == "full" else settings["pretrained"]
    if meta["weights"] == "full" and not (folder / "model").exists():
        raise ScorerFolderError(f"scorer folder {folder} lacks 'model' (full weights)")
    parts, adapter = _adapter(folder, meta) if meta["weights"] == "adapter" else (None, None)
    settings.pop("pretrained")
    backbone = get_backbone_class(kind).from_settings(settings, str(weights), str(folder / "tokenizer"),
                                                      str(folder / "image_processor"), trust_remote_code)
    check_processor(backbone.inputs.image_processor, str(folder / "image_processor"))
    model = RewardModel(backbone, head=meta["head"])
    if parts is not None:
        from peft import set_peft_model_state_dict

        where = f"{folder / 'scorer.json'} lora.targets" if meta["format"] == FORMAT_V1 else \
            f"{folder / ADAPTER_DIR / 'adapter_config.json'} target_modules"
        inject_lora(parts, backbone, where)
        result = set_peft_model_state_dict(backbone.model, adapter)
        odd = [k for k in result.missing_keys if "lora_" in k] + list(result.unexpected_keys)
        if odd:
            source = folder / "adapter.safetensors" if meta["format"] == FORMAT_V1 else folder / ADAPTER_DIR
            raise ValueError(f"{source}: the adapter does not fit its LoRA settings (missing or unexpected "
                             f"tensors, e.g. {odd[0]!r})")
    if getattr(backbone, "reward_token", None) is not None:
        token_file = folder / "reward_token.safetensors"
        if not token_file.exists():
            raise ScorerFolderError(f"scorer folder {folder} lacks 'reward_token.safetensors'")
        with torch.no_grad():
            backbone.reward_token.weight.copy_(load_file(token_file)["reward_embedding"])
    model.head.load_state_dict(load_file(folder / "head.safetensors"))
    return model.to(device).eval(), meta, parts


def load_reward_model(folder: str | Path, device: str | torch.device = "cpu",
                      trust_remote_code: bool = False) -> tuple[RewardModel, dict[str, Any]]:
    """Rebuild the RewardModel of a scorer folder or Hub id (weights loaded, eval mode) and its settings.

    scorer.json is validated (`zoo.reward.scorer_settings`); code in the folder runs only when the caller passes
    `trust_remote_code=True`, never because a file in the folder asks for it.
    """
    model, meta, _ = _load(resolve_scorer(folder), device, trust_remote_code)
    return model, meta


class Scorer:
    """A SpatialScore scorer: loads a scorer folder or Hub id, scores (prompt, image) lists in batches, saves and
    shares it (`Scorer.from_pretrained("owner/name").score(prompts, images)`)."""

    def __init__(self, folder: str | Path, device: str | torch.device = "cpu", batch_size: int = 32,
                 trust_remote_code: bool = False, revision: str | None = None) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.folder = resolve_scorer(folder, revision)
        self.model, self.meta, self.parts = _load(self.folder, device, trust_remote_code)
        self.batch_size = batch_size

    @classmethod
    def from_pretrained(cls, id_or_path: str | Path, device: str | torch.device = "cpu", batch_size: int = 32,
                        trust_remote_code: bool = False, revision: str | None = None) -> Scorer:
        """Load a local scorer folder, or a Hub repo `owner/name` (at `revision`) through the Hugging Face cache."""
        return cls(id_or_path, device, batch_size, trust_remote_code, revision)

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write this scorer as a folder (format zoo-scorer/2; a LoRA adapter in peft's format under adapter/)."""
        folder = export_scorer(self.model, Path(folder), self.parts, extra=self.meta.get("extra"))
        if self.meta["weights"] == "full":  # name the source's base checkpoint, not this machine's load path
            meta = json.loads((folder / "scorer.json").read_text())
            meta["backbone"]["pretrained"] = self.meta["backbone"]["pretrained"]
            (folder / "scorer.json").write_text(json.dumps(meta, indent=2))
        return folder

    def push_to_hub(self, repo_id: str, private: bool | None = None, token: str | None = None,
                    revision: str | None = None, commit_message: str = "Upload zoo scorer") -> str:
        """save_pretrained into a temporary folder, then upload it to the Hub model repo `repo_id`; the commit URL."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = self.save_pretrained(Path(tmp) / "scorer")
            return upload_scorer(folder, repo_id, private, token, revision, commit_message)

    @property
    def truncated(self) -> int:
        """Prompts truncated to the model's limit so far."""
        return self.model.inputs.truncated

    def score(self, prompts: Sequence[str], images: Sequence[Image.Image], batch_size: int | None = None) -> list[float]:
        """Mean scores, in order."""
        if len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts but {len(images)} images")
        size = batch_size or self.batch_size
        scores: list[float] = []
        for start in range(0, len(prompts), size):
            scores += self.model.score(prompts[start:start + size], images[start:start + size]).tolist()
        return scores


def run_per_item(run: Callable[[list[T]], Sequence[R]], items: list[T]) -> list[R | Exception]:
    """run(items); when that raises, run([item]) for each item alone, with a failing item's exception in its place
    (one bad sample costs itself only)."""
    if not items:
        return []
    try:
        return list(run(items))
    except Exception:  # noqa: BLE001 - retried item by item below
        results: list[R | Exception] = []
        for item in items:
            try:
                results.append(run([item])[0])
            except Exception as err:  # noqa: BLE001 - reported per item
                results.append(err)
        return results


def load(folder: str | Path, device: str | torch.device = "cpu", batch_size: int = 32,
         trust_remote_code: bool = False) -> Scorer:
    """Load a scorer folder or Hub id: `zoo.reward.scorer.load(path).score(prompts, images)`."""
    return Scorer(folder, device, batch_size, trust_remote_code)
