"""Names that come from data (sample keys, item ids, split names) as safe relative paths, and joins that stay inside
an output folder. Every writer of files under an output folder builds its paths with `safe_join`."""

from __future__ import annotations

import re
from pathlib import Path

DRIVE = re.compile(r"^[A-Za-z]:")
MAX_PART_BYTES, MAX_NAME_BYTES = 200, 1024  # file systems refuse names over 255 bytes; suffixes are added


class UnsafePathError(ValueError):
    """A name that would leave its folder (`..`, absolute, backslash, drive letter) or cannot be a file name."""


def safe_relpath(name: str, what: str = "key") -> str:
    """`name` unchanged when it is a relative POSIX path that cannot leave a folder; else UnsafePathError.

    Refused: empty names and empty parts ("a//b", "a/"), `..` parts, a leading `/`, backslashes, a drive letter
    ("C:..."), control characters and text that is not UTF-8.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnsafePathError(f"{what} {name!r}: empty or not text")
    reason = None
    if "\\" in name:
        reason = "contains a backslash"
    elif name.startswith("/"):
        reason = "is an absolute path"
    elif DRIVE.match(name):
        reason = "starts with a drive letter"
    elif any(ord(c) < 32 or c == "\x7f" for c in name):
        reason = "contains a control character"
    elif any(part in ("", "..") for part in name.split("/")):
        reason = "has a '..' or empty part"
    elif all(part == "." for part in name.split("/")):
        reason = "names no file"
    else:
        try:
            parts = [part.encode("utf-8") for part in name.split("/")]
            if max(map(len, parts)) > MAX_PART_BYTES or len(name.encode("utf-8")) > MAX_NAME_BYTES:
                reason = f"is too long (over {MAX_PART_BYTES} bytes a part or {MAX_NAME_BYTES} in all)"
        except UnicodeEncodeError:
            reason = "is not UTF-8"
    if reason:
        raise UnsafePathError(f"{what} {name!r} {reason}: refused as a path")
    return name


def safe_name(name: str, what: str = "name") -> str:
    """`name` when it is one safe path component (no `/`), e.g. a split name used in shard file names."""
    safe_relpath(name, what)
    if "/" in name:
        raise UnsafePathError(f"{what} {name!r} contains '/': it must be a plain name")
    return name


def safe_join(root: str | Path, *parts: str) -> Path:
    """root/parts[0]/..., each part checked by `safe_relpath`, the result checked (symlinks resolved) to lie in root."""
    for part in parts:
        safe_relpath(str(part), "path part")
    path = Path(root).joinpath(*parts)
    base = Path(root).resolve()
    if not path.resolve().is_relative_to(base):
        raise UnsafePathError(f"{path} resolves outside its output folder {root}")
    return path
