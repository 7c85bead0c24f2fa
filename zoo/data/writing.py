"""Writing tar shards atomically and deterministically, and the manifest that describes a shard set."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import webdataset as wds
from PIL import Image

from zoo.data.paths import safe_name
from zoo.settings import parse_json

FIXED_MTIME = 0  # byte-identical shards for identical inputs; an int, so no PAX header per member


def encode_png(image: np.ndarray | Image.Image) -> bytes:
    """PNG bytes of an RGB image (deterministic for the same pixels)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def encode_json(meta: dict[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys) of a record's metadata."""
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()


def write_shard(path: Path, samples: Iterable[dict[str, Any]]) -> int:
    """Write samples ({__key__, member: bytes}) to one tar shard via a temporary file; return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.chmod(tmp, 0o644)
    count = 0
    try:
        with os.fdopen(fd, "wb") as stream:
            writer = wds.TarWriter(stream, mtime=FIXED_MTIME, encoder=False)
            for sample in samples:
                writer.write(sample)
                count += 1
            writer.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that readers see either the old file or the whole new one."""
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def shard_name(split: str, index: int) -> str:
    """File name of shard `index` of a split: "train-000003.tar" (the split must be a plain, safe name)."""
    return f"{safe_name(split, 'split')}-{index:06d}.tar"


def read_jsonl_rows(path: Path, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of a JSON-lines output the project appends to (each an object with `keys`).

    A last line cut off by a killed run is dropped from the file (its item is done again); any other line that is
    not such a row raises ValueError naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_bytes().splitlines(keepends=True)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = parse_json(line)
            if not isinstance(row, dict) or any(k not in row for k in keys):
                raise ValueError(f"not an object with {list(keys)}")
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if number != len(lines):
                raise ValueError(f"{path}:{number} is not a row of this output ({err}); only a cut-off last line "
                                 "is repaired") from None
            print(f"{path}: dropping a cut-off last line (the run was interrupted while writing it)")
            write_bytes_atomic(path, b"".join(lines[:-1]))
            break
        rows.append(row)
    return rows
