"""Shard URLs: expand braces and globs, check they exist, open them; `pipe:` only on request."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path
from typing import IO, Iterable

import braceexpand
import fsspec

from zoo.data.limits import remote_timeout

GLOB_CHARS = set("*?[")
EXTRAS = {"s3": ("s3", "s3fs"), "s3a": ("s3", "s3fs"), "gs": ("gcs", "gcsfs"), "gcs": ("gcs", "gcsfs")}


class ShellUrlRefused(ValueError):
    """A `pipe:` URL was given without `allow_shell_urls: true`."""


def _is_remote(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


def storage_options(url: str) -> dict:
    """fsspec options for a remote URL: connect and read timeouts (ZOO_REMOTE_TIMEOUT) where the protocol has them."""
    protocol, timeout = url.split("://", 1)[0], remote_timeout()
    if protocol in ("http", "https"):
        import aiohttp

        return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=None, sock_connect=timeout,
                                                                   sock_read=timeout)}}
    if protocol in ("s3", "s3a"):
        return {"config_kwargs": {"connect_timeout": timeout, "read_timeout": timeout, "retries": {"max_attempts": 2}}}
    if protocol in ("gs", "gcs"):
        return {"timeout": timeout}
    return {}


def _missing_backend(url: str, err: ImportError) -> ImportError:
    protocol = url.split("://", 1)[0]
    extra, package = EXTRAS.get(protocol, (None, None))
    hint = f"pip install 'zoo[{extra}]' (or pip install {package})" if extra else "install the fsspec backend it names"
    return ImportError(f"shard URL {url!r}: reading {protocol}:// needs an extra package: {hint} ({err})")


def _local_path(url: str) -> str:
    return url[len("file://"):] if url.startswith("file://") else url


def expand_urls(spec: str | Path | Iterable[str | Path], allow_shell_urls: bool = False) -> list[str]:
    """Expand one or more shard specs (paths, globs, brace patterns, fsspec URLs) into shard URLs.

    Local paths must exist and globs must match; a `pipe:` URL runs a shell command and is refused
    unless `allow_shell_urls` is true. Order is kept per spec; globs are sorted.
    """
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not specs:
        raise ValueError("no shard URLs given")
    urls: list[str] = []
    for item in specs:
        for url in braceexpand.braceexpand(str(item)):
            urls.extend(_expand_one(url, allow_shell_urls))
    return urls


def _expand_one(url: str, allow_shell_urls: bool) -> list[str]:
    if url.startswith("pipe:"):
        if not allow_shell_urls:
            raise ShellUrlRefused(
                f"refusing shard URL {url!r}: a 'pipe:' URL runs a shell command; set allow_shell_urls: true "
                "only for data sources you trust")
        return [url]
    has_glob = bool(GLOB_CHARS & set(url))
    if _is_remote(url):
        if not has_glob:
            return [url]
        try:
            fs, _, _ = fsspec.get_fs_token_paths(url, storage_options=storage_options(url))
        except ImportError as err:
            raise _missing_backend(url, err) from None
        protocol = url.split("://", 1)[0]
        found = sorted(fs.glob(url))
        if not found:
            raise FileNotFoundError(f"no shards match {url!r}")
        return [f"{protocol}://{p}" if "://" not in p else p for p in found]
    path = _local_path(url)
    if has_glob:
        found = sorted(glob.glob(path))
        if not found:
            raise FileNotFoundError(f"no shards match {url!r}")
        return found
    if not os.path.isfile(path):
        raise FileNotFoundError(f"shard not found: {url!r}")
    return [path]


def open_url(url: str, allow_shell_urls: bool = False) -> IO[bytes]:
    """Open a shard for binary reading: a local file, an fsspec URL, or (opt-in) a `pipe:` command."""
    if url.startswith("pipe:"):
        if not allow_shell_urls:
            raise ShellUrlRefused(f"refusing shard URL {url!r}: set allow_shell_urls: true to run shell commands")
        proc = subprocess.Popen(url[len("pipe:"):], shell=True, stdout=subprocess.PIPE)  # noqa: S602 (opt-in)
        return proc.stdout
    if _is_remote(url):
        try:
            return fsspec.open(url, "rb", **storage_options(url)).open()
        except ImportError as err:
            raise _missing_backend(url, err) from None
    path = _local_path(url)
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise OSError(f"{path}: not a regular file")
    return open(path, "rb")
