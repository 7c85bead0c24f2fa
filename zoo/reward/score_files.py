"""`zoo score`: score (prompt, image) pairs from a folder or JSON-lines file into JSON-lines; resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from PIL import Image
from tqdm import tqdm

from zoo.data.records import IMAGE_EXTS
from zoo.reward.scorer import load


def read_items(input: Path) -> list[dict[str, Any]]:
    """Items {id, prompt, image}: from JSON-lines ({prompt, image[, id]}, paths relative to the file) or
    a folder of images each with a same-named .txt prompt."""
    input = Path(input)
    if input.is_dir():
        items = []
        for path in sorted(p for p in input.iterdir() if p.suffix.lower().lstrip(".") in IMAGE_EXTS):
            txt = path.with_suffix(".txt")
            prompt = txt.read_text().strip() if txt.exists() else None
            items.append({"id": path.stem, "prompt": prompt, "image": str(path)})
        return items
    if not input.is_file():
        raise FileNotFoundError(f"score input not found: {input}")
    items = []
    for lineno, line in enumerate(input.read_text().splitlines(), 1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                items.append({"id": f"line{lineno}", "error": f"bad JSON on line {lineno}: {err}"})
                continue
            image = record.get("image")
            if image and not Path(image).is_absolute():
                image = str(input.parent / image)
            items.append({"id": str(record.get("id", f"line{lineno}")), "prompt": record.get("prompt"), "image": image})
    return items


def _load(item: dict[str, Any]) -> Image.Image:
    if item.get("error"):
        raise ValueError(item["error"])
    if not isinstance(item.get("prompt"), str) or not item["prompt"].strip():
        raise ValueError("missing or empty prompt")
    if not item.get("image"):
        raise ValueError("missing image path")
    try:
        with Image.open(item["image"]) as im:
            return im.convert("RGB")
    except Exception as err:
        raise ValueError(f"cannot read image {item['image']}: {err}") from err


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def score(scorer: Path, input: Path, output: Path, batch_size: int = 32, device: str = "cpu") -> dict[str, int]:
    """Score prompt/image pairs with a scorer folder, writing one JSON line per item to OUTPUT.

    INPUT is a JSON-lines file of {prompt, image[, id]} (image paths relative to the file) or a folder
    of images with same-named .txt prompts. Items already in OUTPUT are skipped (resume); an item
    that cannot be scored (bad image, empty prompt) gets an "error" field instead of a score.

    Args:
        scorer: a scorer folder (exported by `zoo fit` with a RewardModule).
        input: JSON-lines file or folder.
        output: JSON-lines file to write (appended to when resuming).
        batch_size: images per forward pass.
        device: "cpu", "cuda", "cuda:1", ...
    """
    model = load(scorer, device, batch_size)
    items = read_items(input)
    output = Path(output)
    done = set()
    if output.exists():
        done = {json.loads(line)["id"] for line in output.read_text().splitlines() if line.strip()}
    todo = [it for it in items if it["id"] not in done]
    counts = {"items": len(items), "skipped_done": len(items) - len(todo), "scored": 0, "errors": 0}
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "a") as out, tqdm(total=len(todo), desc="score", unit="img") as bar:
        for chunk in _batches(todo, batch_size):
            good, images, rows = [], [], []
            for item in chunk:
                try:
                    images.append(_load(item))
                    good.append(item)
                except ValueError as err:
                    rows.append({"id": item["id"], "prompt": item.get("prompt"), "image": item.get("image"), "error": str(err)})
            scores = model.score([g["prompt"] for g in good], images) if good else []
            rows += [{"id": g["id"], "prompt": g["prompt"], "image": g["image"], "score": s} for g, s in zip(good, scores)]
            for row in rows:
                out.write(json.dumps(row) + "\n")
            out.flush()
            counts["scored"] += len(good)
            counts["errors"] += len(chunk) - len(good)
            bar.update(len(chunk))
    counts["truncated_prompts"] = model.truncated
    print(f"scored {counts['scored']}, errors {counts['errors']}, already done {counts['skipped_done']} -> {output}")
    return counts
