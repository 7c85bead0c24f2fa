"""How the `zoo` command reports errors: one `error: ...` line on stderr, an exit code, the traceback only on demand.

Ordinary errors are what a user can fix from the message: a verb's argument (`UsageError`, exit code 2), or a file,
folder, shard, setting or install that is wrong or missing (`ValueError`, `OSError`, `ImportError`, `EOFError` and
the project's own error classes; exit code 1). They print one line, for every verb. Anything else is unexpected (a
bug, most likely): the project's verbs print one line naming the exception type and suggesting `--debug`; the
training verbs (fit/validate/test/predict) show the traceback, as rerunning a long fit to see it costs a run.
`--debug` (or `ZOO_DEBUG=1`) shows the traceback of every error.
"""

from __future__ import annotations

import os

DEBUG_ENV = "ZOO_DEBUG"
DEBUG_HINT = "run with --debug (or ZOO_DEBUG=1) for the traceback"


class UsageError(ValueError):
    """A verb's argument is wrong (bad value, missing or conflicting options): the command exits with code 2."""


def debug_requested(argv: list[str]) -> bool:
    """Whether `--debug` is among the arguments or ZOO_DEBUG is set to something other than "", "0" or "false"."""
    return "--debug" in argv or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


# jsonargparse wraps an error raised while it builds a class from a config in these (the reason is in the chain)
PARSER_WRAPPERS = ("Does not validate against any of the Union subtypes", "Problem with given class_path")


def unwrap(err: BaseException) -> BaseException:
    """The error behind jsonargparse's wrappers (the one that says what is wrong), else the error itself."""
    while str(err).startswith(PARSER_WRAPPERS) and (err.__cause__ or err.__context__) is not None:
        err = err.__cause__ or err.__context__
    return err


def message(err: BaseException) -> str:
    """The error's message; an OSError with a file name as `PATH: reason`."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    text = str(err).strip()
    if isinstance(err, KeyError) and len(err.args) == 1:
        text = f"missing key {err.args[0]!r}"
    return text or type(err).__name__


def error_lines(err: BaseException, ordinary: bool) -> str:
    """`error: MESSAGE` (first line of the message; later lines indented below it), with the exception type and
    the --debug hint for an unexpected error."""
    first, *rest = message(err).splitlines() or [""]
    head = f"error: {first}" if ordinary else f"error: {type(err).__name__}: {first} ({DEBUG_HINT})"
    return "\n".join([head, *(f"  {line}" for line in rest)])


def require_local_folder(path: str | os.PathLike, what: str) -> None:
    """A folder given as a local path must exist: `UsageError` "WHAT PATH does not exist" otherwise. A string of the
    form `owner/name` that is not a local path is left alone (it may be a Hugging Face Hub id)."""
    text = os.fspath(path)
    if os.path.exists(text):
        if not os.path.isdir(text):
            raise UsageError(f"{what} {text} is not a folder")
        return
    parts = text.split("/")
    if len(parts) == 2 and all(parts) and not text.startswith((".", "~")) and ":" not in text:
        return
    raise UsageError(f"{what} {text} does not exist")
