"""`zoo data pack`: JSON-lines or HPSv3-style pair lists with image paths into pair shards.

Every record is validated; bad ones are listed in a report with the reason and never written,
records marked `"accept": false` (a reviewer's edit) are left out and counted separately.
Arguments and the input are checked before anything in OUT changes; the new shards are written to a
staging folder inside OUT and swapped in at the end, so an interrupted or failed pack leaves the old
shards and report as they were.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from zoo.progress import tqdm

from zoo.data.images import ImageError, read_image
from zoo.data.paths import safe_join
from zoo.data.records import IMAGE_EXTS, check_text
from zoo.data.writing import encode_json, shard_name, write_json_atomic, write_shard
from zoo.settings import parse_json

HPSV3_KEYS = ("path1", "path2")  # HPSv3 lists: path1 is the preferred image
REPORT = "pack_report.json"


class PackError(ValueError):
    """The input file as a whole cannot be read."""


def read_records(path: Path) -> list[tuple[str, Any]]:
    """(location, record) for each record of a JSON-lines file or a JSON list; bad lines kept as errors."""
    raw = path.read_bytes()
    if path.suffix == ".json" or raw.lstrip().startswith(b"["):
        try:
            data = parse_json(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise PackError(f"{path}:{line}: not UTF-8 ({err.reason} at byte {err.start}); a JSON list is read whole"
                            ) from None
        except json.JSONDecodeError as err:
            raise PackError(f"{path}: not valid JSON: {err}") from err
        if not isinstance(data, list):
            raise PackError(f"{path}: a .json input must hold a list of records, got {type(data).__name__}")
        return [(f"{path}[{i}]", rec) for i, rec in enumerate(data)]
    records: list[tuple[str, Any]] = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((f"{path}:{lineno}", parse_json(line.decode("utf-8"))))
        except UnicodeDecodeError as err:
            records.append((f"{path}:{lineno}", PackError(f"not UTF-8 ({err.reason} at byte {err.start})")))
        except json.JSONDecodeError as err:
            records.append((f"{path}:{lineno}", PackError(f"bad JSON: {err}")))
    return records


def normalise(record: Any) -> dict[str, Any]:
    """Map a record to {prompt, chosen, rejected, ...meta}: our schema, or HPSv3's path1/path2."""
    if isinstance(record, Exception):
        raise record
    if not isinstance(record, dict):
        raise PackError(f"a record must be an object, got {type(record).__name__}")
    if "chosen" not in record and "rejected" not in record and any(k in record for k in HPSV3_KEYS):
        missing = [k for k in HPSV3_KEYS if k not in record]
        if missing:
            raise PackError(f"HPSv3 record lacks {missing[0]!r} (path1 is the preferred image, path2 the other)")
        record = {**{k: v for k, v in record.items() if k not in HPSV3_KEYS},
                  "chosen": record["path1"], "rejected": record["path2"], "source_format": "hpsv3"}
    for key in ("prompt", "chosen", "rejected"):
        if key not in record:
            raise PackError(f"missing key {key!r}")
    try:
        check_text(record["prompt"], "'prompt'")
    except ValueError as err:
        raise PackError(str(err)) from None
    return record


def load_image_bytes(value: Any, base: Path, key: str) -> tuple[str, bytes]:
    """(extension, bytes) of an image path, checked by decoding it fully (the project's image reader and limits)."""
    if not isinstance(value, str) or not value:
        raise PackError(f"{key!r} must be an image path, got {value!r}")
    path = Path(value) if Path(value).is_absolute() else base / value
    ext = path.suffix.lower().lstrip(".")
    if ext not in IMAGE_EXTS:
        raise PackError(f"{key!r}: unsupported image type {path.name!r}; expected one of {IMAGE_EXTS}")
    if not path.is_file():
        raise PackError(f"{key!r}: image not found: {path}")
    try:
        read_image(path)
    except ImageError as err:
        raise PackError(f"{key!r}: cannot decode {path}: {err}") from err
    return ("jpg" if ext == "jpeg" else ext), path.read_bytes()


def _samples(records: list[tuple[str, Any]], base: Path, split: str, bad: list, declined: list,
             progress: bool) -> Iterator[dict[str, Any]]:
    for index, (where, raw) in enumerate(tqdm(records, desc="pack", unit="rec", disable=not progress)):
        try:
            record = normalise(raw)
            if record.get("accept", True) is False:
                declined.append(where)
                continue
            images = {key: load_image_bytes(record[key], base, key) for key in ("chosen", "rejected")}
            meta = {k: v for k, v in record.items() if k not in ("chosen", "rejected")}
            meta.update(source=where, chosen_path=record["chosen"], rejected_path=record["rejected"])
            sample = {"__key__": f"{split}-{index:08d}", "json": encode_json(meta)}
            sample.update({f"{key}.{ext}": data for key, (ext, data) in images.items()})
            yield sample
        except (PackError, TypeError, ValueError) as err:
            bad.append({"record": where, "reason": str(err)})


def pack_pairs(input: Path, out: Path, split: str = "train", shard_size: int = 1000, overwrite: bool = False,
               progress: bool = True) -> dict[str, Any]:
    """Pack pair records into out/{split}-NNNNNN.tar; write out/pack_report.json; return the summary."""
    input, out = Path(input), Path(out)
    if not isinstance(shard_size, int) or isinstance(shard_size, bool) or shard_size < 1:
        raise ValueError(f"shard_size must be an integer >= 1, got {shard_size!r}")
    shard_name(split, 0)  # a split that is not a plain name (e.g. '../x') fails here
    if not input.is_file():
        raise FileNotFoundError(f"pack input not found: {input}")
    old = sorted(out.glob(f"{split}-*.tar"))
    if old and not overwrite:
        raise FileExistsError(f"{out} already holds {split} shards ({old[0].name}, ...); pass overwrite=true")
    records = read_records(input)
    bad: list[dict[str, str]] = []
    declined: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".pack-{split}-", dir=out))
    try:
        stream = _samples(records, input.parent, split, bad, declined, progress)
        counts = []
        while chunk := [s for _, s in zip(range(shard_size), stream)]:
            counts.append(write_shard(safe_join(staging, shard_name(split, len(counts))), chunk))
        summary = {"input": str(input), "records": len(records), "packed": sum(counts), "bad": len(bad),
                   "declined_by_review": len(declined), "shards": len(counts), "errors": bad, "declined": declined}
        _swap_in(staging, out, split, summary)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _swap_in(staging: Path, out: Path, split: str, summary: dict[str, Any]) -> None:
    """Move the new shards over the old ones, remove old shards beyond them, then write the report."""
    new = sorted(staging.glob(f"{split}-*.tar"))
    for path in new:
        path.replace(safe_join(out, path.name))
    names = {p.name for p in new}
    for path in out.glob(f"{split}-*.tar"):
        if path.name not in names:
            path.unlink()
    write_json_atomic(safe_join(out, REPORT), summary)
