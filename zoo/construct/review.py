"""Review sheets for constructed pairs: contact-sheet PNGs and a JSON-lines file with an `accept` field.

A person looks at `review/sheets/*.png` (each cell: numbered chosen | rejected images over the original
(+) and perturbed (-) prompts), sets `"accept": false` on the rows of `review/review.jsonl` to drop, and
runs `zoo data pack review/review.jsonl OUT` (image paths in the rows are relative to `review/`).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from zoo.data.paths import safe_join
from zoo.data.writing import encode_png, write_bytes_atomic

CELL = 160  # pixels per image side on a sheet
COLUMNS, ROWS = 4, 6


def _cell(number: int, chosen: np.ndarray, rejected: np.ndarray, plus: str, minus: str) -> Image.Image:
    text_height = 64
    cell = Image.new("RGB", (2 * CELL + 6, CELL + text_height), (255, 255, 255))
    for i, image in enumerate((chosen, rejected)):
        cell.paste(Image.fromarray(image).resize((CELL, CELL), Image.NEAREST), (i * (CELL + 6), 0))
    draw = ImageDraw.Draw(cell)
    draw.rectangle((CELL, 0, CELL + 5, CELL), fill=(120, 120, 120))  # chosen | rejected
    draw.rectangle((0, 0, 22, 12), fill=(0, 0, 0))
    draw.text((2, 1), f"{number}", fill=(255, 255, 255))
    lines = [f"+ {line}" for line in textwrap.wrap(plus, 52)[:2]]
    lines += [f"- {line}" for line in textwrap.wrap(minus, 52)[:2]]
    for k, line in enumerate(lines):
        draw.text((2, CELL + 2 + 15 * k), line, fill=(0, 90, 0) if line.startswith("+") else (160, 0, 0))
    return cell


def contact_sheet(cells: list[Image.Image]) -> Image.Image:
    """Cells in a grid, COLUMNS wide."""
    w, h = cells[0].size
    rows = (len(cells) + COLUMNS - 1) // COLUMNS
    sheet = Image.new("RGB", (COLUMNS * (w + 8), rows * (h + 8)), (200, 200, 200))
    for i, cell in enumerate(cells):
        sheet.paste(cell, ((i % COLUMNS) * (w + 8), (i // COLUMNS) * (h + 8)))
    return sheet


def write_review(review_dir: Path, name: str, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Images, sheets and the JSON-lines rows of one chunk's pairs ({key, chosen, rejected, meta}); returns the rows."""
    rows: list[dict[str, Any]] = []
    per_sheet = COLUMNS * ROWS
    for start in range(0, len(pairs), per_sheet):
        part = pairs[start:start + per_sheet]
        sheet = f"sheets/{name}-{start // per_sheet:03d}.png"
        cells = []
        for n, pair in enumerate(part):
            meta = pair["meta"]
            paths = {side: f"images/{pair['key']}.{side}.png" for side in ("chosen", "rejected")}
            for side, rel in paths.items():
                write_bytes_atomic(safe_join(review_dir, rel), encode_png(pair[side]))
            cells.append(_cell(start + n, pair["chosen"], pair["rejected"], meta["prompt"],
                               meta.get("perturbed_prompt", "(another image of the same prompt)")))
            rows.append({**meta, "key": pair["key"], **paths, "accept": True, "sheet": sheet, "cell": start + n})
        write_bytes_atomic(safe_join(review_dir, sheet), encode_png(contact_sheet(cells)))
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    write_bytes_atomic(safe_join(review_dir, f"{name}.jsonl"), text.encode())
    return rows


def merge_review(review_dir: Path) -> int:
    """Concatenate every chunk's rows into review/review.jsonl (what `zoo data pack` reads); returns the row count."""
    parts = sorted(p for p in review_dir.glob("*.jsonl") if p.name != "review.jsonl")
    text = "".join(p.read_text() for p in parts)
    write_bytes_atomic(review_dir / "review.jsonl", text.encode())
    return text.count("\n")
