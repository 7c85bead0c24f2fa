"""Every option of every project verb and of every shipped LightningModule has its own --help text, and a choice
outside a Literal fails at parsing (exit code 2), before anything runs."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any, Callable, Iterator

import lightning as L
import pytest
from jsonargparse import ArgumentParser

import modules
from zoo.cli import PROJECT_COMMANDS, _function_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _verbs(spec: Any, name: str = "") -> Iterator[tuple[str, Callable]]:
    if callable(spec):
        yield name.strip(), spec
    else:
        for sub, value in spec.items():
            yield from _verbs(value, f"{name} {sub}")


def _without_help(parser: ArgumentParser) -> list[str]:
    """Options of a parser whose help is missing or empty (the config-file option and subcommands aside)."""
    return [a.dest for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) and a.dest != "config"
            and (not a.help or a.help == argparse.SUPPRESS or not str(a.help).strip())]


def _module_classes() -> list[type]:
    return [cls for _, cls in inspect.getmembers(modules, inspect.isclass) if issubclass(cls, L.LightningModule)]


@pytest.mark.parametrize("name,fn", list(_verbs(PROJECT_COMMANDS)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_of_a_project_verb_has_help(name, fn):
    parser = _function_parser(fn)
    assert len(parser._actions) > 2 and _without_help(parser) == [], name


@pytest.mark.parametrize("cls", _module_classes(), ids=lambda c: c.__name__)
def test_every_option_of_a_shipped_lightning_module_has_help(cls):
    parser = ArgumentParser()
    parser.add_class_arguments(cls, "model", sub_configs=False)
    assert _without_help(parser) == []


def test_the_shipped_modules_are_all_walked():
    assert {"GRPOModule", "DiffusionNFTModule", "RewardModule", "FlowMatchingModule"} <= {
        c.__name__ for c in _module_classes()}


@pytest.mark.parametrize("argv", [
    ["fit", "-c", "configs/grpo/tiny_verifier.yaml", "--model.init_args.adv_std", "bogus", "--print_config"],
    ["bench", "prompts.tar", "--out", "run", "--experiment", "x.yaml", "--judge", "bogus"],
    ["data", "construct", "p.jsonl", "--out", "o", "--experiment", "x.yaml", "--rule", "bogus"],
])
def test_a_choice_outside_its_literal_is_a_parse_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(ROOT / a) if a.startswith("configs/") else a for a in argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "bogus" in err and "Traceback" not in err
