"""A small, strict reader of tar streams (ustar, pax and GNU long names), for shards.

Python's tarfile is slow per member and ends quietly on a stream cut at a member boundary; this
reader parses each 512-byte header directly, checks its checksum, and raises `TarTruncated` or
`TarCorrupt` for anything short of a complete archive with its end-of-archive block.
"""

from __future__ import annotations

from typing import IO, Iterator

BLOCK = 512
REGULAR = (b"0", b"\0", b"7")


class TarCorrupt(ValueError):
    """A header that is not a tar header."""


class TarTruncated(EOFError):
    """The stream ends before the archive does."""


def _octal(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for large values
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _read_exact(stream: IO[bytes], size: int, what: str) -> bytes:
    data = stream.read(size)
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise TarTruncated(f"stream ends inside {what} ({len(data)} of {size} bytes)")
        data += more
    return data


def _pax_path(data: bytes) -> str | None:
    path = None
    while data:
        length = int(data.split(b" ", 1)[0])
        record, data = data[:length], data[length:]
        key, _, value = record.split(b" ", 1)[1].rstrip(b"\n").partition(b"=")
        if key == b"path":
            path = value.decode("utf-8")
    return path


def iter_members(stream: IO[bytes]) -> Iterator[tuple[str, bytes]]:
    """(name, data) of every regular file in a tar stream, in order."""
    long_name: str | None = None
    while True:
        header = stream.read(BLOCK)
        if len(header) < BLOCK:
            header += _read_exact(stream, BLOCK - len(header), "a header") if header else b""
            if not header:
                raise TarTruncated("stream ends without the end-of-archive block")
        if header.count(0) == BLOCK:
            return  # end-of-archive
        stored = _octal(header[148:156])
        if stored != sum(header[:148]) + 256 + sum(header[156:]):  # checksum field counts as spaces
            raise TarCorrupt(f"bad tar header checksum near member {header[:100].rstrip(bytes(1))!r}")
        size, kind = _octal(header[124:136]), header[156:157]
        data = _read_exact(stream, size, "member data") if size else b""
        if size % BLOCK:
            _read_exact(stream, BLOCK - size % BLOCK, "member padding")
        if kind == b"L":
            long_name = data.rstrip(b"\0").decode("utf-8")
        elif kind == b"x":
            long_name = _pax_path(data) or long_name
        elif kind in REGULAR:
            name = header[:100].split(b"\0", 1)[0].decode("utf-8")
            prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8") if header[257:262] == b"ustar" else ""
            yield (long_name or (f"{prefix}/{name}" if prefix else name)), data
            long_name = None
        else:
            long_name = None  # directories, links, global headers: nothing to yield
