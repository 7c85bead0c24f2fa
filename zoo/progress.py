"""Progress that a parent process can read: a command run with `ZOO_PROGRESS_FILE=PATH` keeps PATH up to date with
`{"done", "total", "unit", "time"}` (written atomically, at most once a second), so `zoo pipeline` can show step N/M
and an ETA for each stage it runs. Without the variable nothing is written.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm as _tqdm

ENV = "ZOO_PROGRESS_FILE"


class ProgressFile:
    """Writes `done`/`total` to the file named by ZOO_PROGRESS_FILE, throttled to one write per `interval` seconds."""

    def __init__(self, path: str | Path | None = None, interval: float = 1.0) -> None:
        path = path if path is not None else os.environ.get(ENV)
        self.path = Path(path) if path else None
        self.interval, self.last = interval, float("-inf")

    def update(self, done: float, total: float | None, unit: str = "step", force: bool = False) -> None:
        """Record that `done` of `total` units are finished (a no-op without a file, or within `interval`)."""
        now = time.monotonic()
        if self.path is None or (not force and now - self.last < self.interval):
            return
        self.last = now
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"done": done, "total": total, "unit": unit, "time": time.time()}))
            tmp.replace(self.path)
        except OSError:  # progress is a courtesy: never fail a command over it
            self.path = None


def read_progress(path: Path) -> dict[str, Any] | None:
    """The progress a command last wrote to `path`, or None when there is none (yet) or it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class tqdm(_tqdm):  # noqa: N801 (a drop-in for tqdm.tqdm)
    """tqdm that also keeps ZOO_PROGRESS_FILE up to date (for `zoo pipeline`'s per-stage progress and ETA), counting
    on its own so that a disabled bar reports too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._progress_file = ProgressFile()
        self._progress_unit = kwargs.get("unit", "it")
        self._progress_done = kwargs.get("initial", 0)
        super().__init__(*args, **kwargs)

    def _report(self, force: bool = False) -> None:
        self._progress_file.update(self._progress_done, self.total, self._progress_unit, force=force)

    def __iter__(self):
        for item in super().__iter__():
            yield item
            self._progress_done += 1
            self._report()
        self._report(force=True)  # the last count, whatever the throttle skipped

    def update(self, n: float | None = 1) -> bool | None:
        self._progress_done += n or 0
        self._report()
        return super().update(n)

    def close(self) -> None:
        if getattr(self, "_progress_file", None) is not None and getattr(self, "total", None) is not None:
            self._report(force=True)
        super().close()


def eta_seconds(first: tuple[float, float], last: tuple[float, float], total: float | None) -> float | None:
    """Seconds left at the rate between two (time, done) readings; None without a total or before any progress."""
    (t0, d0), (t1, d1) = first, last
    if total is None or d1 <= d0 or t1 <= t0:
        return None
    return max(0.0, (total - d1) * (t1 - t0) / (d1 - d0))
