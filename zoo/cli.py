"""The `zoo` console script: LightningCLI (fit/validate/test/predict) plus the project's own commands.

This is the one module of `zoo/` that imports the other top-level folders, so that their classes
can be named by short name in configs.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any, Callable

from jsonargparse import ActionConfigFile, ArgumentParser
from lightning.pytorch.callbacks import Callback, ProgressBar
from lightning.pytorch.cli import LightningCLI

import callbacks  # noqa: F401  (registers classes for short names in configs)
import datamodules  # noqa: F401
import modules  # noqa: F401
import zoo
from callbacks.progress import ProgressFileCallback, StepProgressBar
from modules.rl import TooManyRewardFailures
from zoo.bench.policy_eval import policy_eval
from zoo.bench.run import bench
from zoo.construct.relations_command import relations as data_relations
from zoo.construct.run import construct
from zoo.data import commands as data_commands
from zoo.data.relations_nlp import NLPUnavailable
from zoo.data.samples import CorruptSampleError
from zoo.data.stream import CorruptDataError
from zoo.errors import DEBUG_ENV, UsageError, debug_requested, error_lines, unwrap
from zoo.pipeline import StageFailed, pipeline
from zoo.progress import ENV as PROGRESS_ENV
from zoo.report import report
from zoo.reward.score_files import score
from zoo.reward.table import table as reward_table

# name -> function, or name -> {subname -> function}
PROJECT_COMMANDS: dict[str, Any] = {
    "data": {"spatial": data_commands.spatial, "pack": data_commands.pack, "inspect": data_commands.inspect,
             "construct": construct, "relations": data_relations},
    "pipeline": pipeline,
    "score": score,
    "reward": {"table": reward_table},
    "policy": {"eval": policy_eval},
    "bench": bench,
    "report": report,
}


def _description(fn: Callable) -> str:
    return (fn.__doc__ or "").split("\n    Args:")[0].strip()


DESCRIPTION = ("zoo: SpatialScore reward models and RL for spatially-aware text-to-image models. Training verbs "
               "(fit/validate/test/predict) take experiment YAMLs from configs/; the project's own verbs build data, "
               "score images, benchmark policies and run the whole pipeline. `zoo VERB --help` explains each.")


def _function_parser(fn: Callable) -> ArgumentParser:
    parser = ArgumentParser(description=_description(fn), parser_mode="omegaconf", allow_abbrev=False)
    parser.add_argument("-c", "--config", action=ActionConfigFile, help="YAML file with these arguments.")
    parser.add_function_arguments(fn, as_group=False, as_positional=True)
    return parser


def _add_command(parent: ArgumentParser, name: str, spec: Any) -> None:
    """Add a function, or a group of functions as nested subcommands (parents before children)."""
    doc = spec.__doc__ if callable(spec) else f"Project commands: {', '.join(spec)}."
    parser = _function_parser(spec) if callable(spec) else ArgumentParser(description=doc, parser_mode="omegaconf",
                                                                          allow_abbrev=False)
    parent._subcommands_action.add_subcommand(name, parser, help=(doc or "").strip().splitlines()[0])
    if not callable(spec):
        parser.add_subcommands(dest="subcommand")
        for sub_name, fn in spec.items():
            _add_command(parser, sub_name, fn)


class ZooCLI(LightningCLI):
    """LightningCLI with omegaconf configs, subclass mode for model and data, and `zoo data ...`/`zoo pipeline`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parser_kwargs", {"parser_mode": "omegaconf", "prog": "zoo", "description": DESCRIPTION})
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("subclass_mode_model", True)
        kwargs.setdefault("subclass_mode_data", True)
        super().__init__(*args, **kwargs)

    def init_parser(self, **kwargs: Any):
        """Lightning's parser without prefix matching: `--trainer.max_step` is an error, not `max_steps`."""
        return super().init_parser(**{"allow_abbrev": False, **kwargs})

    def _instantiate_trainer(self, config: dict[str, Any], extra_callbacks: list[Callback]) -> Any:
        """The trainer, with a bar that counts rollouts for RL (unless a bar is configured or bars are off) and, under
        `zoo pipeline`, the progress file its stage reports through."""
        configured = config.get("callbacks") or []
        configured = configured if isinstance(configured, list) else [configured]
        extra = list(extra_callbacks)
        if config.get("enable_progress_bar") is not False and not any(
                isinstance(c, ProgressBar) for c in configured + extra):
            extra.append(StepProgressBar())
        if os.environ.get(PROGRESS_ENV):
            extra.append(ProgressFileCallback())
        return super()._instantiate_trainer(config, extra)

    def _add_subcommands(self, parser, **kwargs: Any) -> None:
        parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
        parser.add_argument("--debug", action="store_true", help="on an error, show the full traceback (also "
                            "ZOO_DEBUG=1); accepted anywhere on the command line")
        parser.add_argument("--quiet", action="store_true", help="log warnings and errors only (also "
                            "ZOO_LOG_LEVEL=WARNING); accepted anywhere on the command line")
        super()._add_subcommands(parser, **kwargs)
        for name, spec in PROJECT_COMMANDS.items():
            _add_command(parser, name, spec)

    def _is_project(self) -> bool:
        return self.subcommand in PROJECT_COMMANDS

    def _set_seed(self) -> None:
        if not self._is_project():
            super()._set_seed()

    def instantiate_classes(self) -> None:
        if not self._is_project():
            super().instantiate_classes()

    def _run_subcommand(self, subcommand: str) -> None:
        if subcommand not in PROJECT_COMMANDS:
            return super()._run_subcommand(subcommand)
        spec, config = PROJECT_COMMANDS[subcommand], self.config[subcommand]
        if not callable(spec):
            name = config["subcommand"]
            spec, config = spec[name], config[name]
        kwargs = {k: v for k, v in vars(config).items() if k not in ("config", "__path__", "subcommand")}
        spec(**kwargs)


PROJECT_LOGGERS = ("zoo", "modules", "datamodules", "callbacks")
LOG_LEVEL_ENV = "ZOO_LOG_LEVEL"


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever sys.stderr is when a record comes (so captured streams see it too)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _ShortFormatter(logging.Formatter):
    """`[zoo.data.stream] message` for INFO, `warning: [zoo.data.stream] message` (the level) above it."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"[{record.name}] {record.getMessage()}"
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(quiet: bool = False) -> None:
    """The project's loggers (zoo, modules, datamodules, callbacks) at INFO to stderr, in a short format (WARNING with
    --quiet; ZOO_LOG_LEVEL names another level); known third-party noise silenced (see `silence_noise`). Idempotent."""
    level = os.environ.get(LOG_LEVEL_ENV, "WARNING" if quiet else "INFO").strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise UsageError(f"{LOG_LEVEL_ENV}={level!r} is not a logging level (DEBUG, INFO, WARNING, ERROR)")
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, _StderrHandler)]
        handler = _StderrHandler()
        handler.setFormatter(_ShortFormatter())
        logger.addHandler(handler)
    silence_noise()


def silence_noise() -> None:
    """Drop third-party console lines a user cannot act on."""
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if _drop_tips not in rank_zero.filters:
        rank_zero.addFilter(_drop_tips)
    # torch 2.13 deprecates constructing LeafSpec, which Lightning 2.6.6 does in utilities/_pytree.py on every step
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)
    # Lightning 2.6 (loops/fit_loop.py) warns about submodules in eval mode: ours are the frozen parts (text encoders,
    # VAE, reference, reward), kept in eval on purpose
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode at the start of training")
    # Lightning 2.6 (utilities/data.py) warns that an IterableDataset's __len__ may be wrong with several workers:
    # zoo.data.stream splits each rank's quota among its workers (split_quota), so the length is exact
    warnings.filterwarnings("ignore", message=r"Your `IterableDataset` has `__len__` defined")


def _drop_tips(record: logging.LogRecord) -> bool:
    # Lightning 2.6.x advertises litlogger/litmodels on every fit ("💡 Tip: For seamless cloud ...",
    # trainer/connectors/logger_connector.py and callback_connector.py)
    return not str(record.msg).startswith("💡 Tip")


TRAINING_VERBS = ("fit", "validate", "test", "predict")
GLOBAL_FLAGS = ("--debug", "--quiet")


def ordinary_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a user fixes from the message (bad argument, file, setting, install): one line, never a traceback."""
    return (ValueError, OSError, ImportError, EOFError, CorruptDataError, CorruptSampleError, NLPUnavailable,
            StageFailed, TooManyRewardFailures, torch_oom())


def torch_oom() -> type[BaseException]:
    """torch's out-of-memory error (an ordinary failure: smaller batches or more devices)."""
    import torch

    return getattr(torch, "OutOfMemoryError", MemoryError)


def main(args: list[str] | None = None) -> None:
    """Entry point of the `zoo` console script: one `error: ...` line on stderr and exit code 2 (usage) or 1
    (failure) on an error; the traceback with `--debug` or ZOO_DEBUG=1 (see zoo.errors)."""
    argv = list(sys.argv[1:] if args is None else args)
    debug, quiet = debug_requested(argv), "--quiet" in argv
    argv = [a for a in argv if a not in GLOBAL_FLAGS]
    verb = next((a for a in argv if not a.startswith("-")), None)
    if args is None:  # LightningCLI warns when given args while sys.argv holds some: hand it sys.argv without the flags
        sys.argv[1:] = argv  # (processes Lightning starts run sys.argv again: they get the flags from the environment)
        if debug:
            os.environ.setdefault(DEBUG_ENV, "1")
        if quiet:
            os.environ.setdefault(LOG_LEVEL_ENV, "WARNING")
    try:
        configure_logging(quiet)
        ZooCLI(args=None if args is None else argv)
    except SystemExit as err:
        if isinstance(err.code, str):  # a verb's `raise SystemExit("message")`: a failure with its reason
            print(f"error: {err.code}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr, flush=True)
        raise SystemExit(130) from None
    except Exception as raised:
        err = unwrap(raised)
        ordinary = isinstance(err, ordinary_errors())
        if debug or (not ordinary and verb in TRAINING_VERBS):
            raise
        print(error_lines(err, ordinary), file=sys.stderr, flush=True)
        raise SystemExit(2 if isinstance(err, UsageError) else 1) from None


if __name__ == "__main__":
    main()
