"""The shipped YAML configs: the repository's configs/ folder, or its copy installed with the package (zoo/configs/)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def configs_root() -> Path:
    """The folder of shipped configs: zoo/configs/ in an installed wheel, else configs/ of the source tree."""
    installed = _HERE / "configs"
    return installed if installed.is_dir() else _HERE.parent / "configs"


def resolve_config(name: str | Path) -> Path:
    """A config path as given when it exists, else the shipped copy: `configs/sft/tiny_flux.yaml` and
    `sft/tiny_flux.yaml` both name configs_root()/sft/tiny_flux.yaml. FileNotFoundError names both places."""
    path = Path(name).expanduser()
    if path.exists() or path.is_absolute():
        return path
    parts = path.parts[1:] if path.parts[:1] == ("configs",) else path.parts
    shipped = configs_root().joinpath(*parts) if parts else configs_root()
    if shipped.is_file():
        return shipped
    raise FileNotFoundError(f"config not found: {name} (neither as given, from {Path.cwd()}, nor among the shipped "
                            f"configs in {configs_root()})")
