"""The floors of docs/architecture.md, read from the source: what may import what, and imports at module level."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("zoo", "modules", "datamodules", "callbacks")
FLOORS = {  # docs/architecture.md: a package may import its own floor and the ones below
    "zoo": 0, "zoo.world": 0, "zoo.images": 0, "zoo.settings": 0, "zoo.errors": 0, "zoo.progress": 0,
    "zoo.config_files": 0, "zoo.dist": 0,
    "zoo.data": 1,
    "zoo.reward": 2, "zoo.policy": 2,
    "zoo.bench": 3,
    "zoo.rl": 4, "zoo.construct": 4,
    "zoo.pipeline": 5, "zoo.report": 5,
    "zoo.cli": 6,
}
# Known debt, each with its reason; the test fails on any new one (and on one of these once it is gone).
UPWARD: set = set()
LOCAL: set = set()  # imports inside functions (of the project's own packages): none


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, inside a function) for each import of the project's own packages in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        out += [(n, node.col_offset > 0) for n in names if n.split(".")[0] in OURS]
    return out


def _floor(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "zoo" and len(parts) > 1 else parts[0]


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_floors_import_only_their_own_and_lower_floors():
    found = set()
    for path in _files("zoo"):
        name = _floor(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for module, _ in _imports(path):
            target = _floor(module)
            if target in ("modules", "datamodules", "callbacks"):
                assert name == "zoo.cli", f"{path.relative_to(ROOT)} imports {module}: only zoo/cli.py may"
            elif FLOORS[target] > FLOORS[name]:
                found.add((str(path.relative_to(ROOT)), module))
    assert found == UPWARD


def test_lightning_glue_keeps_its_direction():
    for folder, banned in (("modules", ("callbacks",)), ("datamodules", ("modules", "callbacks"))):
        for path in _files(folder):
            bad = [m for m, _ in _imports(path) if m.split(".")[0] in banned]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_imports_sit_at_module_level_but_for_the_listed_few():
    files = [p for folder in OURS for p in _files(folder)]
    found = {(str(p.relative_to(ROOT)), m) for p in files for m, local in _imports(p) if local}
    assert found == LOCAL
