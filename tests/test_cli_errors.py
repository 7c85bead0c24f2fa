"""The `zoo` command's errors: one `error:` line naming the path or value, exit code 2 (usage) or 1 (failure), the
traceback only with --debug or ZOO_DEBUG=1; and its logging (the project's INFO lines reach stderr)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from zoo import cli
from zoo.errors import UsageError

def _probes(tmp: Path) -> dict[str, tuple[list[str], int, str]]:
    """The issue's four mistakes: argv, exit code, what the error line must say."""
    (tmp / "empty").mkdir(exist_ok=True)
    (tmp / "in.jsonl").write_text('{"prompt": "a red circle", "image": "a.png"}\n')
    return {
        "glob": (["data", "inspect", str(tmp / "nothing-*.tar")], 1, f"no shards match '{tmp}/nothing-\\*.tar'"),
        "scorer": (["score", str(tmp / "in.jsonl"), "--scorer", str(tmp / "no_scorer"), "--out", str(tmp / "o.jsonl")],
                   2, f"scorer folder {tmp}/no_scorer does not exist"),
        "report": (["report", str(tmp / "empty")], 1, f"{tmp}/empty/reward/table.json: No such file or directory"),
        "image_size": (["data", "spatial", "--out", str(tmp / "set"), "--image_size", "8"], 2,
                       r"--image_size must be in \[32, 512\] pixels, got 8"),
    }


@pytest.mark.parametrize("name", ["glob", "scorer", "report", "image_size"])
def test_an_ordinary_mistake_is_one_error_line_and_an_exit_code(name, tmp_path, capsys, monkeypatch):
    import bad_inputs as corpus

    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    argv, code, pattern = _probes(tmp_path)[name]
    with corpus.cli_error(capsys, pattern, code):
        cli.main(argv)
    assert not (tmp_path / "set").exists() and not (tmp_path / "o.jsonl").exists()


def test_debug_flag_or_environment_shows_the_traceback(tmp_path, monkeypatch):
    argv, _, _ = _probes(tmp_path)["image_size"]
    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    with pytest.raises(UsageError, match="image_size"):  # the exception itself: Python prints its traceback
        cli.main(["--debug", *argv])
    with pytest.raises(FileNotFoundError, match="no shards match"):
        cli.main([*_probes(tmp_path)["glob"][0], "--debug"])  # anywhere on the line
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(UsageError):
        cli.main(argv)


def test_an_unexpected_error_in_a_project_verb_names_its_type_and_the_debug_flag(capsys, monkeypatch):
    def broken(value: int = 1) -> None:
        """A verb with a bug.

        Args:
            value: a number.
        """
        raise TypeError("unsupported operand")

    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    monkeypatch.setitem(cli.PROJECT_COMMANDS, "broken", broken)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["broken"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and "Traceback" not in err
    assert err.splitlines() == ["error: TypeError: unsupported operand (run with --debug (or ZOO_DEBUG=1) for the "
                                "traceback)"]


def test_the_console_script_reads_sys_argv_without_the_global_flags(tmp_path, capsys, monkeypatch):
    import bad_inputs as corpus

    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    monkeypatch.delenv("ZOO_LOG_LEVEL", raising=False)
    monkeypatch.setattr(sys, "argv", ["zoo", "data", "inspect", str(tmp_path / "none-*.tar"), "--quiet"])
    with corpus.cli_error(capsys, "no shards match"):
        cli.main()  # as the console script calls it
    assert sys.argv == ["zoo", "data", "inspect", str(tmp_path / "none-*.tar")]
    assert os.environ["ZOO_LOG_LEVEL"] == "WARNING"  # what processes that Lightning starts from sys.argv see
    cli.configure_logging()  # back to INFO for the tests after this one


def test_a_zoo_logger_info_line_reaches_stderr_and_quiet_hides_it(tmp_path, capsys, monkeypatch):
    def speak() -> None:
        """Log one INFO line from library code."""
        logging.getLogger("zoo.data.stream").info("hello from the library")

    monkeypatch.delenv("ZOO_LOG_LEVEL", raising=False)
    monkeypatch.setitem(cli.PROJECT_COMMANDS, "speak", speak)
    cli.main(["speak"])
    assert "[zoo.data.stream] hello from the library" in capsys.readouterr().err
    cli.main(["speak", "--quiet"])
    assert "hello from the library" not in capsys.readouterr().err
    monkeypatch.setenv("ZOO_LOG_LEVEL", "LOUD")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["speak"])
    assert exit_.value.code == 2 and "ZOO_LOG_LEVEL='LOUD' is not a logging level" in capsys.readouterr().err
    monkeypatch.delenv("ZOO_LOG_LEVEL")
    cli.main(["speak"])  # leave the loggers at INFO for the tests after this one


def test_known_third_party_noise_is_silenced(capsys, monkeypatch):
    import warnings

    def noisy() -> None:
        """Emit the upstream lines a user cannot act on."""
        logging.getLogger("lightning.pytorch.utilities.rank_zero").info("💡 Tip: For seamless cloud logging, try X")
        warnings.warn("Found 77 module(s) in eval mode at the start of training. This may lead to ...")
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning)

    monkeypatch.setitem(cli.PROJECT_COMMANDS, "noisy", noisy)
    with warnings.catch_warnings(record=True) as caught:
        cli.main(["noisy"])
    err = capsys.readouterr().err
    assert "Tip" not in err and not [w for w in caught if "eval mode" in str(w.message) or "LeafSpec" in str(w.message)]
