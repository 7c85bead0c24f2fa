"""GenEval: an open-vocabulary detector finds the prompt's objects; counts and the position rule decide.

The position rule is the world's (`zoo.world.geometry.planar_relation_holds`: shrunken, normalised
centre offsets, threshold 0.5), not a second implementation. `OwlViTDetector` is transformers' OWL-ViT
(or OWLv2) from a checkpoint, or tiny and random for tests; any object with `detect` is a detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np
import torch
import transformers
from PIL import Image

from zoo.bench.prompts import BenchItem, load_geneval
from zoo.bench.suite import Suite, register_suite
from zoo.world.geometry import planar_relation_holds
from zoo.world.spec import ABOVE, BELOW, LEFT, RIGHT
from zoo.world.tokenizer import build_world_tokenizer

GENEVAL_PHRASES = {"left of": LEFT, "right of": RIGHT, "above": ABOVE, "below": BELOW}


@dataclass
class Detection:
    """One detected object: its class name, confidence and box [x0, y0, x1, y1] in pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]


class Detector(Protocol):
    """Anything that finds named classes in images."""

    def detect(self, images: Sequence[Image.Image], classes: Sequence[Sequence[str]]) -> list[list[Detection]]: ...


class OwlViTDetector:
    """Open-vocabulary detection with transformers' OWL-ViT / OWLv2: "a photo of a <class>" queries per image.

    Args:
        pretrained: path or hub id (e.g. google/owlv2-base-patch16-ensemble); None builds a tiny random one (tests).
        threshold: minimum confidence of a detection.
        device: where the model runs.
    """

    def __init__(self, pretrained: str | None = None, threshold: float = 0.3, device: str = "cpu") -> None:
        self.threshold, self.device = threshold, torch.device(device)
        if pretrained is None:
            self.tokenizer = build_world_tokenizer()
            config = transformers.OwlViTConfig(
                text_config={"vocab_size": len(self.tokenizer), "hidden_size": 32, "intermediate_size": 64,
                             "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 16,
                             "pad_token_id": self.tokenizer.pad_token_id,
                             "eos_token_id": self.tokenizer.eos_token_id},
                vision_config={"image_size": 64, "patch_size": 16, "hidden_size": 32, "intermediate_size": 64,
                               "num_hidden_layers": 2, "num_attention_heads": 2}, projection_dim=32)
            self.model = transformers.OwlViTForObjectDetection(config)
            self.image_processor = transformers.OwlViTImageProcessor(size={"height": 64, "width": 64},
                                                                     do_center_crop=False)
        else:
            processor = transformers.AutoProcessor.from_pretrained(pretrained)
            self.tokenizer, self.image_processor = processor.tokenizer, processor.image_processor
            self.model = transformers.AutoModelForZeroShotObjectDetection.from_pretrained(pretrained)
        self.model.to(self.device).eval()
        self.max_length = self.model.config.text_config.max_position_embeddings

    @torch.no_grad()
    def detect(self, images: Sequence[Image.Image], classes: Sequence[Sequence[str]]) -> list[list[Detection]]:
        """Detections above the threshold for each image's class list, boxes in that image's pixels."""
        out = []
        for image, names in zip(images, classes):
            queries = [f"a photo of a {name}" for name in names]
            text = self.tokenizer(queries, padding="max_length", truncation=True, max_length=self.max_length,
                                  return_tensors="pt")
            pixels = self.image_processor(images=image.convert("RGB"), return_tensors="pt")["pixel_values"]
            outputs = self.model(input_ids=text["input_ids"].to(self.device),
                                 attention_mask=text["attention_mask"].to(self.device),
                                 pixel_values=pixels.to(self.device))
            logits = outputs.logits[0].sigmoid()  # (boxes, queries)
            scores, labels = logits.max(-1)
            w, h = image.size
            boxes = outputs.pred_boxes[0]  # (cx, cy, w, h), normalised
            found = []
            for score, label, (cx, cy, bw, bh) in zip(scores.tolist(), labels.tolist(), boxes.tolist()):
                if score >= self.threshold:
                    found.append(Detection(names[label], score, ((cx - bw / 2) * w, (cy - bh / 2) * h,
                                                                 (cx + bw / 2) * w, (cy + bh / 2) * h)))
            out.append(found)
        return out


def geneval_verdict(item: BenchItem, detections: Sequence[Detection]) -> dict[str, object]:
    """GenEval's rule for one image: every included class detected (exactly `count` times for the counting tag,
    at least otherwise) and each `position` satisfied by the best boxes under the world's rule."""
    by_class: dict[str, list[Detection]] = {}
    for d in sorted(detections, key=lambda d: -d.score):
        by_class.setdefault(d.label, []).append(d)
    reasons = []
    includes = item.data["include"]
    for entry in includes:
        n = len(by_class.get(entry["class"], []))
        if (n != entry["count"]) if item.category == "counting" else (n < entry["count"]):
            reasons.append(f"{entry['class']}: {n} found, {entry['count']} wanted")
    for entry in includes:
        if "position" in entry and not reasons:
            phrase, ref = entry["position"]
            a, b = by_class[entry["class"]][0].box, by_class[includes[ref]["class"]][0].box
            if not planar_relation_holds(GENEVAL_PHRASES[phrase], a, b):
                reasons.append(f"{entry['class']} not {phrase} {includes[ref]['class']}")
    return {"correct": not reasons, "reasons": reasons}


def geneval_table(items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
    """Accuracy per GenEval tag ("position" is Flow-GRPO's reward column) and the mean over tags."""
    per_tag: dict[str, list[float]] = {}
    for item, row in zip(items, rows):
        per_tag.setdefault(item.category, []).append(float(row["correct"]))
    table = {"position": float(np.mean(per_tag["position"])) if "position" in per_tag else float("nan")}
    table.update({tag: float(np.mean(v)) for tag, v in sorted(per_tag.items())})
    table["overall"] = float(np.mean([np.mean(v) for v in per_tag.values()])) if per_tag else float("nan")
    return table


@register_suite
class GenEval(Suite):
    """GenEval: its evaluation_metadata.jsonl, images judged by an open-vocabulary detector."""

    name = "geneval"
    judged = True
    judge_kind = "owl_vit"

    def load(self, prompts: str, count: int | None, variant: str, errors: list[str] | None) -> list[BenchItem]:
        return load_geneval(prompts, errors)

    def build_judge(self, model: str | None, family: str) -> Detector:
        return OwlViTDetector(model)

    def judge_image(self, item: BenchItem, image: np.ndarray, judge: Detector) -> dict[str, Any]:
        detections = judge.detect([Image.fromarray(image)], [[c["class"] for c in item.data["include"]]])[0]
        return geneval_verdict(item, detections)

    def table(self, items: Sequence[BenchItem], rows: Sequence[dict]) -> dict[str, float]:
        return geneval_table(items, rows)
