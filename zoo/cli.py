"""The `zoo` console script: LightningCLI (fit/validate/test/predict) plus the project's own commands.

This is the one module of `zoo/` that imports the other top-level folders, so that their classes
can be named by short name in configs.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from jsonargparse import ActionConfigFile, ArgumentParser
from lightning.pytorch.callbacks import Callback, ProgressBar
from lightning.pytorch.cli import LightningCLI

import callbacks  # noqa: F401  (registers classes for short names in configs)
import zoo
from callbacks.progress import ProgressFileCallback, StepProgressBar
import datamodules  # noqa: F401
import modules  # noqa: F401
from zoo.bench.run import bench
from zoo.data import commands as data_commands
from zoo.data.construct import construct
from zoo.data.relations_command import relations as data_relations
from zoo.pipeline import pipeline
from zoo.policy.evaluate import policy_eval
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


def main(args: list[str] | None = None) -> None:
    """Entry point of the `zoo` console script."""
    ZooCLI(args=args)


if __name__ == "__main__":
    main()
