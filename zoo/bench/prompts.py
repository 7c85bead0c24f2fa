"""Loaders for the benchmark prompt files in their published formats (spec: benchmarks.md).

Every loader returns `BenchItem`s: an id, the prompt, a category and what the suite's scorer needs
(GenEval's objects, DPG's questions, TIIF's yes/no questions, UniGenBench's testpoints). A malformed
line or row raises `BenchFormatError` naming the file and the line, or, when the caller passes an
`errors` list, is left out and reported there (the published UniGenBench long CSV has one such row:
a missing comma in its testpoint list).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from zoo.settings import parse_json

TIIF_GROUPS = {  # TIIF-Bench's reported groups (benchmarks.md)
    "BR": ("2d", "3d", "action+2d", "action+3d"),
    "AR": tuple(f"{a}+{r}" for a in ("action", "color", "shape", "texture") for r in ("2d", "3d")),
    "RR": tuple(f"{a}+{r}" for a in ("numeracy", "comparison", "differentiation", "negation") for r in ("2d", "3d")),
}
UNIGEN_LAYOUT = {"Layout 2D": "Entity Layout - Two-Dimensional Space",
                 "Layout 3D": "Entity Layout - Three-Dimensional Space"}


class BenchFormatError(ValueError):
    """A benchmark file that does not follow its published format."""


@dataclass
class BenchItem:
    """One benchmark prompt with what its scorer needs."""

    id: str
    prompt: str
    category: str
    data: dict[str, Any] = field(default_factory=dict)


def _json_lines(path: Path, errors: list[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield number, parse_json(line)
            except json.JSONDecodeError as err:
                _fail(BenchFormatError(f"{path}:{number}: not JSON ({err.msg})"), errors)


def _fail(error: BenchFormatError, errors: list[str] | None) -> None:
    """Raise, or (when the caller collects errors) record and let the caller skip the record."""
    if errors is None:
        raise error
    errors.append(str(error))


def _need(record: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise BenchFormatError(f"{where}: missing {missing}")


def load_geneval(path: str | Path, errors: list[str] | None = None) -> list[BenchItem]:
    """GenEval `evaluation_metadata.jsonl`: {tag, include: [{class, count, position?}], prompt}; item ids are the
    zero-based line numbers (GenEval's own output folder names)."""
    path = Path(path)
    items = []
    for number, record in _json_lines(path, errors):
        try:
            _need(record, ("tag", "include", "prompt"), f"{path}:{number}")
        except BenchFormatError as err:
            _fail(err, errors)
            continue
        items.append(BenchItem(f"{number - 1:05d}", record["prompt"], record["tag"], {"include": record["include"]}))
    return items


def _tiif_type(kind: str) -> str:
    """Normalise TIIF type names: "2d_spatial_relation" -> "2d", "color+2d" stays."""
    return kind.replace("_spatial_relation", "")


def tiif_group(kind: str) -> str | None:
    """The reported group (BR, AR, RR) of a TIIF-Bench prompt type, or None for types outside them."""
    kind = _tiif_type(kind)
    return next((g for g, kinds in TIIF_GROUPS.items() if kind in kinds), None)


def _raw_lines(path: Path) -> list[tuple[int, str]]:
    with open(path, encoding="utf-8") as f:
        return [(n, line) for n, line in enumerate(f, 1) if line.strip()]


def _tiif_item(prompt_file: Path, n: int, p_line: str, eval_file: Path, m: int, q_line: str,
               length: str) -> BenchItem:
    try:
        p = parse_json(p_line)
    except json.JSONDecodeError as err:
        raise BenchFormatError(f"{prompt_file}:{n}: not JSON ({err.msg})") from None
    try:
        q = parse_json(q_line)
    except json.JSONDecodeError as err:
        raise BenchFormatError(f"{eval_file}:{m}: not JSON ({err.msg})") from None
    _need(p, ("type", f"{length}_description"), f"{prompt_file}:{n}")
    _need(q, ("yn_question_list", "yn_answer_list"), f"{eval_file}:{m}")
    if len(q["yn_question_list"]) != len(q["yn_answer_list"]):
        raise BenchFormatError(f"{eval_file}:{m}: {len(q['yn_question_list'])} questions but "
                               f"{len(q['yn_answer_list'])} answers")
    kind = _tiif_type(p["type"])
    return BenchItem(f"{prompt_file.stem}-{n:04d}", p[f"{length}_description"], kind,
                     {"questions": [s.strip() for s in q["yn_question_list"]],
                      "answers": [a.strip().lower() for a in q["yn_answer_list"]], "group": tiif_group(kind)})


def load_tiif(prompts_dir: str | Path, eval_dir: str | Path, length: str = "short",
              errors: list[str] | None = None) -> list[BenchItem]:
    """TIIF-Bench testmini: `<type>_prompts.jsonl` with short/long descriptions and the line-aligned
    `<type>_eval_prompts.jsonl` with yes/no questions and expected answers."""
    if length not in ("short", "long"):
        raise ValueError(f"length must be 'short' or 'long', got {length!r}")
    prompts_dir, eval_dir = Path(prompts_dir), Path(eval_dir)
    files = sorted(prompts_dir.glob("*_prompts.jsonl"))
    if not files:
        raise BenchFormatError(f"{prompts_dir}: no *_prompts.jsonl files")
    items = []
    for prompt_file in files:
        eval_file = eval_dir / prompt_file.name.replace("_prompts.jsonl", "_eval_prompts.jsonl")
        if not eval_file.is_file():
            raise BenchFormatError(f"{prompt_file}: no matching question file {eval_file}")
        prompts, questions = _raw_lines(prompt_file), _raw_lines(eval_file)
        if len(prompts) != len(questions):
            raise BenchFormatError(f"{prompt_file} has {len(prompts)} prompts but {eval_file} has "
                                   f"{len(questions)} question lines; they must be line-aligned")
        for (n, p_line), (m, q_line) in zip(prompts, questions):
            try:
                items.append(_tiif_item(prompt_file, n, p_line, eval_file, m, q_line, length))
            except BenchFormatError as err:
                _fail(err, errors)
    return items


def load_unigenbench(path: str | Path, errors: list[str] | None = None) -> list[BenchItem]:
    """UniGenBench CSV `index, prompt_en, sub_dims_en` (JSON with "Testpoints" and "Testpoint Description")."""
    path = Path(path)
    items = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        _need({k: 1 for k in reader.fieldnames or []}, ("index", "prompt_en", "sub_dims_en"), str(path))
        for number, row in enumerate(reader, 2):
            try:
                try:
                    dims = parse_json(row["sub_dims_en"])
                except json.JSONDecodeError as err:
                    raise BenchFormatError(f"{path}:{number} (index {row['index']}): sub_dims_en is not JSON "
                                           f"({err.msg})") from None
                _need(dims, ("Testpoints", "Testpoint Description"), f"{path}:{number}")
            except BenchFormatError as err:
                _fail(err, errors)
                continue
            items.append(BenchItem(row["index"], row["prompt_en"], dims.get("Primary Categories", ""),
                                   {"testpoints": dims["Testpoints"], "descriptions": dims["Testpoint Description"]}))
    return items


DPG_COLUMNS = ("item_id", "text", "keywords", "proposition_id", "dependency", "category_broad",
               "category_detailed", "tuple", "question_natural_language")


def load_dpg(path: str | Path, errors: list[str] | None = None) -> list[BenchItem]:
    """DPG-Bench `dpg_bench.csv` (one row per question); one item per prompt with its questions in order,
    each with its proposition id, parent ids (`dependency`, "0" = none) and category from the tuple prefix."""
    path = Path(path)
    by_item: dict[str, BenchItem] = {}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in DPG_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BenchFormatError(f"{path}: missing columns {missing}")
        for number, row in enumerate(reader, 2):
            try:
                parents = [int(d) for d in str(row["dependency"]).split(",") if d.strip() and int(d) != 0]
                proposition = int(row["proposition_id"])
            except ValueError:
                _fail(BenchFormatError(f"{path}:{number}: proposition_id/dependency must be integers, got "
                                       f"{row['proposition_id']!r}/{row['dependency']!r}"), errors)
                continue
            item = by_item.setdefault(row["item_id"], BenchItem(row["item_id"], row["text"], "", {"questions": []}))
            category = row["tuple"].split("(")[0].strip()  # e.g. "relation - spatial"
            item.data["questions"].append({"id": proposition, "parents": parents, "category": category,
                                           "question": row["question_natural_language"]})
    return list(by_item.values())
