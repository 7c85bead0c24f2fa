"""A small, strict reader of tar streams (ustar, pax and GNU long names), for shards.

Python's tarfile is slow per member and ends quietly on a stream cut at a member boundary; this reader parses each
512-byte header directly and checks it. A stream that ends early raises `TarTruncated`; so does a member that
declares more bytes than the stream holds (no allocation beyond what is there). A damaged header (bad checksum, a
number field that is not a number, a malformed pax record) raises `TarCorrupt`, or, when the caller passes
`on_damage`, is reported with its byte offset and the reader goes on at the next valid header.
"""

from __future__ import annotations

import os
from typing import IO, Callable, Iterator

from zoo.data.limits import max_member_bytes

BLOCK = 512
CHUNK = 1 << 20
REGULAR = (b"0", b"\0", b"7")


class TarCorrupt(ValueError):
    """A header that is not a tar header."""


class TarTruncated(EOFError):
    """The stream ends before the archive does; `member`: the name of the member being read, if any."""

    member: str | None = None


def stream_size(stream: IO[bytes]) -> int | None:
    """Bytes in a stream when known: a regular file's size, or an fsspec file's `size`."""
    try:
        stat = os.fstat(stream.fileno())
        if stat.st_size > 0 and (stat.st_mode & 0o170000) == 0o100000:
            return stat.st_size
    except (AttributeError, OSError, ValueError):
        pass
    size = getattr(stream, "size", None)
    return size if isinstance(size, int) and size >= 0 else None


def _octal(field: bytes, what: str) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for large values
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarCorrupt(f"{what} field {text[:12]!r} is not an octal number") from None


def _pax_path(data: bytes) -> str | None:
    """The `path` record of pax data ("<length> <key>=<value>\\n" records); TarCorrupt when malformed."""
    path = None
    while data:
        head, space, _ = data[:20].partition(b" ")
        if not space or not head.isdigit() or int(head) <= len(head) + 1 or int(head) > len(data):
            raise TarCorrupt(f"malformed pax record {data[:24]!r}")
        length = int(head)
        record, data = data[:length], data[length:]
        key, equals, value = record[len(head) + 1:].rstrip(b"\n").partition(b"=")
        if not equals:
            raise TarCorrupt(f"pax record without '=': {record[:24]!r}")
        if key == b"path":
            path = value.decode("utf-8", "surrogateescape")
    return path


class _Reader:
    """Reads a stream in blocks and counts the bytes read; never allocates past the stream's known size."""

    def __init__(self, stream: IO[bytes], size: int | None) -> None:
        self.stream, self.size, self.offset = stream, size, 0
        self.ceiling = max_member_bytes()

    def read(self, size: int, what: str) -> bytes:
        limit = self.size - self.offset if self.size is not None else self.ceiling
        if size > limit:
            raise TarTruncated(f"{what} at byte {self.offset} declares {size} bytes; the stream holds at most {limit}")
        parts, got = [], 0
        while got < size:
            piece = self.stream.read(min(CHUNK, size - got))
            if not piece:
                raise TarTruncated(f"stream ends inside {what} ({got} of {size} bytes, at byte {self.offset + got})")
            parts.append(piece)
            got += len(piece)
        self.offset += size
        return b"".join(parts)

    def block(self) -> bytes:
        """The next 512-byte block; b"" at the end of the stream; TarTruncated for a partial block."""
        first = self.stream.read(BLOCK)
        if not first:
            return b""
        self.offset += len(first)
        return first + (self.read(BLOCK - len(first), "a header") if len(first) < BLOCK else b"")


def _header_fields(header: bytes) -> tuple[int, bytes]:
    """(size, kind) of a header whose checksum is right; TarCorrupt otherwise."""
    stored = _octal(header[148:156], "checksum")
    if stored != sum(header[:148]) + 256 + sum(header[156:]):  # the checksum field counts as spaces
        raise TarCorrupt(f"bad tar header checksum near member {header[:100].rstrip(bytes(1))[:60]!r}")
    return _octal(header[124:136], "size"), header[156:157]


def _name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if header[257:262] != b"ustar":
        return name
    prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return f"{prefix}/{name}" if prefix else name


def iter_members(stream: IO[bytes], size: int | None = None,
                 on_damage: Callable[[int, str], None] | None = None) -> Iterator[tuple[str, bytes]]:
    """(name, data) of every regular file in a tar stream, in order.

    `size`: the stream's length when known (members may not claim more). `on_damage(offset, reason)`: called for a
    damaged header instead of raising TarCorrupt; reading resumes at the next valid header.
    """
    reader, long_name, resyncing = _Reader(stream, size), None, False
    while True:
        offset = reader.offset
        header = reader.block()
        if not header:
            if resyncing:
                return  # the damage was reported; nothing valid followed it
            raise TarTruncated(f"stream ends without the end-of-archive block (at byte {offset})")
        if header.count(0) == BLOCK:
            if resyncing:
                continue
            return  # end-of-archive
        try:
            member_size, kind = _header_fields(header)
        except TarCorrupt as err:
            if on_damage is None:
                raise
            if not resyncing:
                on_damage(offset, str(err))
            resyncing, long_name = True, None
            continue
        resyncing = False
        name = long_name or _name(header)
        try:
            data = reader.read(member_size, f"member {name[:60]!r}")
            if member_size % BLOCK:
                reader.read(BLOCK - member_size % BLOCK, "member padding")
        except TarTruncated as err:
            err.member = name if kind in REGULAR else None
            raise
        if kind == b"L":
            long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif kind == b"x":
            try:
                long_name = _pax_path(data) or long_name
            except TarCorrupt as err:
                if on_damage is None:
                    raise
                on_damage(offset, str(err))
        elif kind in REGULAR:
            yield name, data
            long_name = None
        else:
            long_name = None  # directories, links, global headers: nothing to yield
