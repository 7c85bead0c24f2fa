"""Prompt files for `zoo data construct`: JSON lines, plain text, benchmark prompt files, world prompt shards.

Reading never stops at one bad line: a line that is not UTF-8, not JSON or has no prompt is reported
(file and line) and left out; an empty file gives no items and one problem saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

from zoo.bench.prompts import UNIGEN_LAYOUT, BenchItem, load_unigenbench
from zoo.bench.spatialbench import load_spatialbench
from zoo.bench.suites import load_suite
from zoo.data.paths import safe_relpath
from zoo.data.records import check_text
from zoo.settings import parse_json

TEXT_KEYS = ("prompt", "short_description", "prompt_en", "text", "caption")


def _prompt_of(record: object) -> str | None:
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        for key in TEXT_KEYS:
            if isinstance(record.get(key), str):
                return record[key]
    return None


def _lines(path: Path, problems: list[str]) -> list[BenchItem]:
    raw = path.read_bytes()
    items: list[BenchItem] = []
    as_json = path.suffix in (".jsonl", ".json") or raw.lstrip().startswith(b"{")
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(f"{path}:{number}: not UTF-8 ({err.reason} at byte {err.start})")
            continue
        record: object = text.strip()
        if as_json:
            try:
                record = parse_json(text)
            except json.JSONDecodeError as err:
                problems.append(f"{path}:{number}: not JSON ({err.msg})")
                continue
        prompt = _prompt_of(record)
        if not prompt or not prompt.strip():
            problems.append(f"{path}:{number}: no prompt (looked for {', '.join(TEXT_KEYS)})")
            continue
        key = str(record.get("id", f"{path.stem}-{number:06d}")) if isinstance(record, dict) else \
            f"{path.stem}-{number:06d}"
        try:
            safe_relpath(key, "id")
            check_text(prompt, "prompt")
        except ValueError as err:  # an id names files; a prompt must be encodable
            problems.append(f"{path}:{number}: {err}")
            continue
        items.append(BenchItem(key, prompt.strip(), str(record.get("type", "")) if isinstance(record, dict) else "",
                               {"line": number}))
    return items


def is_spatial(item: BenchItem) -> bool:
    """A benchmark item about spatial relations: TIIF 2d/3d, UniGenBench layout, DPG relation-spatial, GenEval
    position; prompts from other sources count as spatial."""
    data = item.data
    if "testpoints" in data:
        return bool(set(data["testpoints"]) & set(UNIGEN_LAYOUT.values()))
    if data.get("questions") and isinstance(data["questions"][0], dict):
        return any(q.get("category") == "relation - spatial" for q in data["questions"])
    if "group" in data:  # TIIF-Bench
        return "2d" in item.category or "3d" in item.category
    if "include" in data:  # GenEval
        return item.category == "position"
    return True


def read_prompts(source: str, count: int | None = None, suite: str | None = None, variant: str = "short",
                 spatial_only: bool = False) -> tuple[list[BenchItem], list[str]]:
    """Items from a prompt source and the problems met; world shards carry their scene for the verifier.

    `source` is world prompt shards (a .tar path or brace/glob pattern), a UniGenBench CSV, or a JSON-lines /
    plain-text file (one prompt per line; JSON records give it as prompt, short_description (TIIF), prompt_en...);
    with `suite` (geneval, tiif, unigenbench, dpg) it is read by that benchmark's loader instead.
    """
    problems: list[str] = []
    if suite is not None:
        items = load_suite(suite, source, None, variant, problems)
    elif ".tar" in source:
        items = load_spatialbench(source, count)
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"prompt file {path} does not exist")
        if path.suffix == ".csv":
            try:
                items = load_unigenbench(path, errors=problems)
            except UnicodeDecodeError as err:
                items, problems = [], [f"{path}: not UTF-8 ({err.reason} at byte {err.start})"]
        else:
            items = _lines(path, problems)
    if spatial_only:
        items = [i for i in items if is_spatial(i)]
    if not items:
        problems.append(f"{source}: no prompts")
    return items[:count] if count is not None else items, problems
