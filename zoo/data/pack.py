"""`zoo data pack`: JSON-lines or HPSv3-style pair lists with image paths into pair shards.

Every record is validated; bad ones are listed in a report with the reason and never written,
records marked `"accept": false` (a reviewer's edit) are left out and counted separately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from PIL import Image
from tqdm import tqdm

from zoo.data.records import IMAGE_EXTS
from zoo.data.writing import encode_json, shard_name, write_json_atomic, write_shard

HPSV3_KEYS = ("path1", "path2")  # HPSv3 lists: path1 is the preferred image


class PackError(ValueError):
    """The input file as a whole cannot be read."""


def read_records(path: Path) -> list[tuple[str, Any]]:
    """(location, record) for each record of a JSON-lines file or a JSON list; bad lines kept as errors."""
    text = path.read_text()
    if path.suffix == ".json" or text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise PackError(f"{path}: not valid JSON: {err}") from err
        if not isinstance(data, list):
            raise PackError(f"{path}: a .json input must hold a list of records, got {type(data).__name__}")
        return [(f"{path}[{i}]", rec) for i, rec in enumerate(data)]
    records: list[tuple[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((f"{path}:{lineno}", json.loads(line)))
        except json.JSONDecodeError as err:
            records.append((f"{path}:{lineno}", PackError(f"bad JSON: {err}")))
    return records


def normalise(record: Any) -> dict[str, Any]:
    """Map a record to {prompt, chosen, rejected, ...meta}: our schema, or HPSv3's path1/path2."""
    if isinstance(record, Exception):
        raise record
    if not isinstance(record, dict):
        raise PackError(f"a record must be an object, got {type(record).__name__}")
    if "chosen" not in record and all(k in record for k in HPSV3_KEYS):
        record = {**{k: v for k, v in record.items() if k not in HPSV3_KEYS},
                  "chosen": record["path1"], "rejected": record["path2"], "source_format": "hpsv3"}
    for key in ("prompt", "chosen", "rejected"):
        if key not in record:
            raise PackError(f"missing key {key!r}")
    if not isinstance(record["prompt"], str) or not record["prompt"].strip():
        raise PackError("'prompt' must be non-empty text")
    return record


def load_image_bytes(value: Any, base: Path, key: str) -> tuple[str, bytes]:
    """(extension, bytes) of an image path, checked by decoding it fully."""
    if not isinstance(value, str) or not value:
        raise PackError(f"{key!r} must be an image path, got {value!r}")
    path = Path(value) if Path(value).is_absolute() else base / value
    ext = path.suffix.lower().lstrip(".")
    if ext not in IMAGE_EXTS:
        raise PackError(f"{key!r}: unsupported image type {path.name!r}; expected one of {IMAGE_EXTS}")
    if not path.is_file():
        raise PackError(f"{key!r}: image not found: {path}")
    try:
        with Image.open(path) as im:
            im.convert("RGB")
    except Exception as err:
        raise PackError(f"{key!r}: cannot decode {path}: {err}") from err
    return ("jpg" if ext == "jpeg" else ext), path.read_bytes()


def pack_pairs(input: Path, out: Path, split: str = "train", shard_size: int = 1000, overwrite: bool = False,
               progress: bool = True) -> dict[str, Any]:
    """Pack pair records into out/{split}-NNNNNN.tar; write out/pack_report.json; return the summary."""
    input, out = Path(input), Path(out)
    if not input.is_file():
        raise FileNotFoundError(f"pack input not found: {input}")
    old = sorted(out.glob(f"{split}-*.tar"))
    if old and not overwrite:
        raise FileExistsError(f"{out} already holds {split} shards ({old[0].name}, ...); pass overwrite=true")
    for path in old:
        path.unlink()
    records = read_records(input)
    bad: list[dict[str, str]] = []
    declined: list[str] = []

    def samples() -> Iterator[dict[str, Any]]:
        for index, (where, raw) in enumerate(tqdm(records, desc="pack", unit="rec", disable=not progress)):
            try:
                record = normalise(raw)
                if record.get("accept", True) is False:
                    declined.append(where)
                    continue
                images = {key: load_image_bytes(record[key], input.parent, key) for key in ("chosen", "rejected")}
                meta = {k: v for k, v in record.items() if k not in ("chosen", "rejected")}
                meta.update(source=where, chosen_path=record["chosen"], rejected_path=record["rejected"])
                sample = {"__key__": f"{split}-{index:08d}", "json": encode_json(meta)}
                sample.update({f"{key}.{ext}": data for key, (ext, data) in images.items()})
                yield sample
            except (PackError, TypeError, ValueError) as err:
                bad.append({"record": where, "reason": str(err)})

    stream = samples()
    counts, shard = [], 0
    while True:
        chunk = [s for _, s in zip(range(shard_size), stream)]
        if not chunk:
            break
        counts.append(write_shard(out / shard_name(split, shard), chunk))
        shard += 1
    summary = {"input": str(input), "records": len(records), "packed": sum(counts), "bad": len(bad),
               "declined_by_review": len(declined), "shards": shard, "errors": bad, "declined": declined}
    write_json_atomic(out / "pack_report.json", summary)
    return summary
