"""Packaging: shipped configs found from any folder, and a wheel that carries them (built offline)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from zoo.config_files import configs_root, resolve_config

REPO = Path(__file__).resolve().parents[1]


def test_resolve_config_finds_the_shipped_copy_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = configs_root() / "sft" / "tiny_flux.yaml"
    assert resolve_config("configs/sft/tiny_flux.yaml") == resolve_config("sft/tiny_flux.yaml") == shipped
    (tmp_path / "configs" / "sft").mkdir(parents=True)
    (tmp_path / "configs" / "sft" / "tiny_flux.yaml").write_text("mine: 1\n")
    assert resolve_config("configs/sft/tiny_flux.yaml") == Path("configs/sft/tiny_flux.yaml")  # as given first
    with pytest.raises(FileNotFoundError, match="config not found: sft/nothing.yaml"):
        resolve_config("sft/nothing.yaml")


def test_pipeline_and_construct_resolve_configs_through_the_shipped_copy(tmp_path, monkeypatch):
    from zoo import pipeline
    from zoo.construct.run import construct

    assert pipeline.CONFIGS == configs_root()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompts.txt").write_text("a red circle left of a blue square\n")
    with pytest.raises(FileNotFoundError, match=f"config not found: sft/nothing.yaml .*shipped configs in {REPO}"):
        construct(str(tmp_path / "prompts.txt"), out=tmp_path / "out", experiment="sft/nothing.yaml")


def _setuptools_ok() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.mark.skipif(not (REPO / ".git").exists() or shutil.which("git") is None or not _setuptools_ok(),
                    reason="needs a git checkout and setuptools>=77 (offline build)")
def test_wheel_built_offline_ships_every_config_and_the_cli(tmp_path):
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in files:  # the tracked files only, as a clone holds them (and nothing is built inside the repo)
        if (REPO / name).is_file():
            (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, tmp_path / "src" / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps", "--no-index",
                    str(tmp_path / "src"), "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("zoo-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    configs = {f"zoo/configs/{Path(n).relative_to('configs')}" for n in files if n.startswith("configs/")
               and n.endswith(".yaml")}
    assert configs and configs <= names
    assert {"zoo/config_files.py", "zoo/reward/scorer_hub.py", "modules/reward.py"} <= names
    assert "zoo = zoo.cli:main" in entry_points
