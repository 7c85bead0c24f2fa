"""`zoo score`: score (prompt, image) pairs from a folder or JSON-lines file into JSON-lines; resumable.

Nothing in the input stops a run: a line that is not UTF-8, not JSON, not an object, or has a non-text image path,
an unreadable image, a bad prompt, a duplicate id, a batch the model fails on (retried item by item), each becomes
an error row for that item. Every row id is unique, so a rerun resumes exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from zoo.progress import tqdm

from zoo.data.images import ImageError, read_image
from zoo.data.records import IMAGE_EXTS, check_text
from zoo.data.writing import read_jsonl_rows, write_bytes_atomic
from zoo.errors import UsageError, require_local_folder
from zoo.reward.scorer import load, run_per_item
from zoo.settings import parse_json


def _folder_items(folder: Path) -> list[dict[str, Any]]:
    """Images with a same-named .txt prompt; the id is the stem, or the file name when two images share a stem."""
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in IMAGE_EXTS)
    stems = [p.stem for p in paths]
    items = []
    for path in paths:
        item: dict[str, Any] = {"id": path.stem if stems.count(path.stem) == 1 else path.name, "image": str(path),
                                "prompt": None}
        txt = path.with_suffix(".txt")
        if txt.is_file():
            try:
                item["prompt"] = txt.read_bytes().decode("utf-8").strip()
            except UnicodeDecodeError as err:
                item["error"] = f"{txt} is not UTF-8 ({err.reason} at byte {err.start})"
        items.append(item)
    return items


def _line_item(input: Path, number: int, line: bytes) -> dict[str, Any]:
    """One JSON line as an item; anything unusable becomes an item with an error (id `line<N>`)."""
    fallback = {"id": f"line{number}"}
    try:
        record = parse_json(line.decode("utf-8"))
    except UnicodeDecodeError as err:
        return {**fallback, "error": f"{input}:{number}: not UTF-8 ({err.reason} at byte {err.start})"}
    except json.JSONDecodeError as err:
        return {**fallback, "error": f"{input}:{number}: bad JSON: {err}"}
    if not isinstance(record, dict):
        return {**fallback, "error": f"{input}:{number}: a line must be a JSON object, got {type(record).__name__}"}
    item_id = record.get("id", fallback["id"])
    if not isinstance(item_id, (str, int)) or isinstance(item_id, bool):
        return {**fallback, "error": f"{input}:{number}: 'id' must be text or an integer, got {item_id!r}"}
    image = record.get("image")
    item = {"id": str(item_id), "prompt": record.get("prompt"), "image": image}
    if not isinstance(image, str) or not image:
        return {**item, "image": None, "error": f"{input}:{number}: 'image' must be a path, got {image!r}"}
    if not Path(image).is_absolute():
        item["image"] = str(input.parent / image)
    return item


def read_items(input: Path) -> list[dict[str, Any]]:
    """Items {id, prompt, image[, error]}: from JSON-lines ({prompt, image[, id]}, paths relative to the file) or a
    folder of images each with a same-named .txt prompt. Ids are unique: a repeated one becomes an error item."""
    input = Path(input)
    if input.is_dir():
        items = _folder_items(input)
    elif input.is_file():
        items = [_line_item(input, n, line) for n, line in enumerate(input.read_bytes().splitlines(), 1)
                 if line.strip()]
    else:
        raise FileNotFoundError(f"score input not found: {input}")
    seen: dict[str, int] = {}
    for number, item in enumerate(items):
        if item["id"] in seen:
            first = seen[item["id"]]
            item.update(id=f"{item['id']}#{number}", error=f"duplicate id {item['id']!r} (first at item {first})")
        seen[item["id"]] = number
    return items


def _load(item: dict[str, Any]):
    """The item's RGB image, after checking its prompt; ValueError with the reason otherwise."""
    if item.get("error"):
        raise ValueError(item["error"])
    check_text(item.get("prompt"), "prompt")
    try:
        return read_image(item["image"])
    except ImageError as err:
        raise ValueError(f"cannot read image {item['image']}: {err}") from err


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _previous(output: Path, retry_errors: bool) -> set[str]:
    """Ids already in OUTPUT; with retry_errors, error rows are removed from it (and scored again)."""
    rows = read_jsonl_rows(output, ("id",))
    if retry_errors and any("error" in r for r in rows):
        kept = [r for r in rows if "error" not in r]
        write_bytes_atomic(output, "".join(json.dumps(r) + "\n" for r in kept).encode())
        rows = kept
    return {str(r["id"]) for r in rows}


def score(input: Path, *, scorer: Path, out: Path, batch_size: int = 32, device: str = "cpu",
          retry_errors: bool = False, trust_remote_code: bool = False) -> dict[str, int]:
    """Score prompt/image pairs with a scorer folder, writing one JSON line per item to OUT.

    INPUT is a JSON-lines file of {prompt, image[, id]} (image paths relative to the file) or a folder
    of images with same-named .txt prompts. Items already in OUT are skipped (resume); an item
    that cannot be scored (bad line, bad image, empty prompt, a model error) gets an "error" field instead.

    Args:
        input: JSON-lines file or folder.
        scorer: a scorer folder (exported by `zoo fit` with a RewardModule), or a Hugging Face Hub id owner/name.
        out: JSON-lines file to write (appended to when resuming).
        batch_size: images per forward pass (>= 1).
        device: "cpu", "cuda", "cuda:1", ...
        retry_errors: score the items of earlier error rows again (their error rows are replaced).
        trust_remote_code: let transformers run code shipped in the scorer folder; only for folders you trust.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise UsageError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    require_local_folder(scorer, "scorer folder")
    output = Path(out)
    items = read_items(input)
    done = _previous(output, retry_errors)
    todo = [it for it in items if it["id"] not in done]
    model = load(scorer, device, batch_size, trust_remote_code)
    counts = {"items": len(items), "skipped_done": len(items) - len(todo), "scored": 0, "errors": 0}
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "a") as sink, tqdm(total=len(todo), desc="score", unit="img") as bar:
        for chunk in _batches(todo, batch_size):
            rows = _score_chunk(model, chunk)
            sink.write("".join(json.dumps(row) + "\n" for row in rows))
            sink.flush()
            counts["scored"] += sum("score" in r for r in rows)
            counts["errors"] += sum("error" in r for r in rows)
            bar.update(len(chunk))
    counts["truncated_prompts"] = model.truncated
    print(f"scored {counts['scored']}, errors {counts['errors']}, already done {counts['skipped_done']} -> {output}")
    return counts


def _score_chunk(model, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one batch: loading failures and items the model fails on (alone) as error rows."""
    rows: list[dict[str, Any]] = []
    good: list[tuple[dict[str, Any], Any]] = []
    for item in chunk:
        base = {"id": item["id"], "prompt": item.get("prompt"), "image": item.get("image")}
        try:
            good.append((item, _load(item)))
        except ValueError as err:
            rows.append({**base, "error": str(err)})
    results = run_per_item(lambda part: model.score([i["prompt"] for i, _ in part], [im for _, im in part]), good)
    for (item, _), result in zip(good, results):
        base = {"id": item["id"], "prompt": item["prompt"], "image": item["image"]}
        rows.append({**base, "error": f"scoring failed: {result}"} if isinstance(result, Exception)
                    else {**base, "score": float(result)})
    return rows
