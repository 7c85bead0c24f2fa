"""Tar shards as samples: members grouped by key; unsafe keys, damaged headers and cut streams counted with the shard,
the key and the byte offset.

A damaged header costs the sample it was in. The reader resyncs at the next valid header; when the damage sat
between two samples, the one that lacks members the shard's other samples have is dropped (counted), and when
neither lacks anything the damage is counted on its own: every parser error is counted once, and a sample is
never both dropped and kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

from zoo.data.paths import UnsafePathError, safe_relpath
from zoo.data.tar import TarCorrupt, TarTruncated, iter_members, stream_size
from zoo.data.urls import open_url

log = logging.getLogger(__name__)
ON_ERROR = ("skip", "raise")
DETAILED_REPORTS = 10  # per reader; later errors are logged every 100th


class CorruptSampleError(RuntimeError):
    """A shard sample could not be read and `on_error` is "raise"."""


class ErrorLog:
    """Counts and reports the corrupt samples one reader met."""

    def __init__(self, on_error: str = "skip", reader: str = "reader 0") -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        self.on_error, self.reader = on_error, reader
        self.count = 0
        self.examples: list[str] = []

    def record(self, shard: str, key: str | None, reason: str) -> None:
        """Note one bad sample (or unreadable shard part); raise when asked to."""
        where = f"shard {shard!r}" + (f", key {key!r}" if key else "")
        message = f"{where}: {reason}"
        if self.on_error == "raise":
            raise CorruptSampleError(message)
        self.count += 1
        if len(self.examples) < DETAILED_REPORTS:
            self.examples.append(message)
        if self.count <= DETAILED_REPORTS or self.count % 100 == 0:
            log.warning("%s skipped a corrupt sample (%d so far): %s", self.reader, self.count, message)


def split_member(name: str) -> tuple[str, str]:
    """WebDataset naming: the key is the path up to the first dot of the file name."""
    folder, _, base = name.rpartition("/")
    stem, _, ext = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), ext.lower()


@dataclass
class _Damage:
    """One parser error, counted once: on a sample it cost, or on its own."""

    offset: int
    reason: str
    counted: bool = False

    @property
    def note(self) -> str:
        return f"tar damaged at byte {self.offset}: {self.reason}"


@dataclass
class _Sample:
    data: dict[str, Any]
    damage: list[_Damage] = field(default_factory=list)
    inside: bool = False  # the damage fell between two of this sample's own members

    @property
    def exts(self) -> set[str]:
        return {k for k in self.data if not k.startswith("__")}


class _Grouper:
    """Members -> samples for one shard, with the damage rules above."""

    def __init__(self, url: str, errors: ErrorLog) -> None:
        self.url, self.errors = url, errors
        self.current: _Sample | None = None
        self.held: _Sample | None = None  # a sample before damage at a boundary, kept until the next one is known
        self.reference: set[str] | None = None  # members of the last clean sample
        self.fresh: list[_Damage] = []  # damage met since the last member

    def damaged(self, offset: int, reason: str) -> None:
        """The tar reader met a damaged header at this byte offset."""
        log.warning("shard %r: tar damaged at byte %d (%s); reading on from the next valid header", self.url, offset,
                    reason)
        self.fresh.append(_Damage(offset, reason))

    def add(self, name: str, data: bytes) -> Iterator[dict[str, Any]]:
        """Take one member; yield the samples it completes."""
        key, ext = split_member(name)
        fresh, self.fresh = self.fresh, []
        if self.current is not None and key == self.current.data["__key__"]:
            self.current.damage += fresh
            self.current.inside |= bool(fresh)
        else:
            if self.current is not None:
                yield from self._finish(self.current, fresh)
            self.current = _Sample({"__key__": key, "__url__": self.url}, list(fresh))
        if ext in self.current.data:
            self.errors.record(self.url, key, f"duplicate member {name!r}")
        self.current.data[ext] = data

    def close(self, truncated: str | None = None, member: str | None = None) -> Iterator[dict[str, Any]]:
        """The last sample (dropped and counted when the stream was cut inside it) and any damage still uncounted;
        `member`: the member the cut fell in, when known (a sample before it is whole)."""
        current, self.current = self.current, None
        fresh, self.fresh = self.fresh, []
        if truncated is not None and current is not None and member is not None \
                and split_member(member)[0] != current.data["__key__"]:
            yield from self._finish(current, fresh)
            current, fresh = _Sample({"__key__": split_member(member)[0], "__url__": self.url}), []
        if truncated is not None:
            if current is not None:
                self._drop(current, f"truncated or unreadable tar ({truncated}); rest of shard skipped")
            else:
                self.errors.record(self.url, None, f"truncated or unreadable tar ({truncated}); rest of shard skipped")
        elif current is not None:
            yield from self._finish(current, fresh)
        yield from self._release_held()
        for damage in fresh:
            self._settle(damage, "nothing valid after it")

    def _finish(self, sample: _Sample, after: list[_Damage]) -> Iterator[dict[str, Any]]:
        """Yield or drop a complete sample; `after`: damage met right after its last member."""
        try:
            safe_relpath(sample.data["__key__"])
        except UnsafePathError as err:
            self._drop(sample, str(err))
            yield from self._release_held()
            return
        if sample.inside:
            self._drop(sample, "lost a member to tar damage")
            yield from self._release_held()
            return
        hold = bool(after)
        if self.held is not None:
            held, self.held = self.held, None
            held_ok, sample_ok = self._whole([held, sample])
            if held_ok:
                yield held.data
            else:
                self._drop(held, "lost a member next to tar damage")
            if not sample_ok:
                self._drop(sample, "lost a member next to tar damage")
            for damage in held.damage:
                self._settle(damage, "no sample lost a member")
            if not sample_ok:
                return
        elif sample.damage and self.reference is not None:  # damage before it, no sample before that: judged alone
            if not self._whole([sample])[0]:
                self._drop(sample, "lost a member next to tar damage")
                return
            for damage in sample.damage:
                self._settle(damage, "no sample lost a member")
        elif sample.damage:  # nothing to compare it with yet: judged with the next sample
            hold = True
        if hold:
            sample.damage += after
            self.held = sample
            return
        if not sample.damage:
            self.reference = sample.exts
        yield sample.data

    def _release_held(self) -> Iterator[dict[str, Any]]:
        """Decide a held sample alone (the one after the damage is gone)."""
        held, self.held = self.held, None
        if held is None:
            return
        if self._whole([held])[0]:
            yield held.data
        else:
            self._drop(held, "lost a member next to tar damage")
        for damage in held.damage:
            self._settle(damage, "no sample lost a member")

    def _whole(self, samples: list[_Sample]) -> list[bool]:
        """Whether each sample has every member the shard's samples have."""
        reference = self.reference or set().union(*(s.exts for s in samples))
        return [reference <= s.exts for s in samples]

    def _drop(self, sample: _Sample, reason: str) -> None:
        """Count a lost sample once, naming the damage it claims."""
        claimed = [d for d in sample.damage if not d.counted]
        for damage in claimed:
            damage.counted = True
        notes = "; ".join(d.note for d in claimed)
        self.errors.record(self.url, sample.data["__key__"], reason + (f" ({notes})" if notes else ""))

    def _settle(self, damage: _Damage, what: str) -> None:
        """Count damage that cost no sample on its own."""
        if not damage.counted:
            damage.counted = True
            self.errors.record(self.url, None, f"{damage.note} ({what})")


def iter_tar_samples(url: str, errors: ErrorLog, allow_shell_urls: bool = False) -> Iterator[dict[str, Any]]:
    """Group the members of one tar shard into samples {__key__, __url__, <ext>: bytes}.

    Unsafe keys (`..`, absolute, backslash, drive letter) are corrupt samples. A damaged header is reported with
    its byte offset and costs at most the sample it hit; a cut stream costs the sample being read.
    """
    try:
        raw = open_url(url, allow_shell_urls)
    except OSError as err:
        cause = err.__cause__ or err.__context__
        errors.record(url, None, f"cannot open shard ({type(err).__name__}: {err}"
                      + (f"; caused by {type(cause).__name__}: {cause}" if cause else "") + ")")
        return
    grouper = _Grouper(url, errors)
    try:
        with raw:
            for name, data in iter_members(raw, stream_size(raw), grouper.damaged):
                yield from grouper.add(name, data)
    except (TarTruncated, TarCorrupt, OSError, ValueError) as err:
        yield from grouper.close(f"{type(err).__name__}: {err}", getattr(err, "member", None))
        return
    yield from grouper.close()
