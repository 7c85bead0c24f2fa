"""Run every case of the bad-input corpus (tests/bad_inputs*.py) against the code on the path; record each outcome.

Each case runs in a forked child of a warm parent (torch and the CLI imported once) with a time limit, and is
classified from outside: "writes outside OUT", "ran code from the data folder", "hang >Ns", the exception, or the
exit status with the case's own verdict (counts, colours, ...). The label ("before"/"after") names the column; the
JSON and a Markdown table (same name, .md) are written:

    python benchmarks/bad_inputs.py --label after --out benchmarks/results/bad_inputs.json

For the "before" column, run this file and tests/bad_inputs*.py from a checkout of the old code with that checkout
first on PYTHONPATH. The JSON keeps every label seen; the Markdown table shows them side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _first_line(text: str, limit: int = 110) -> str:
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _child(builder, root: Path, conn) -> None:
    """Build and run one case; send its watch list first, then what happened."""
    import torch

    torch.set_num_threads(1)
    sys.argv = ["zoo"]  # the runner's own arguments are not the case's
    log = open(root / "output.txt", "w")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    case = builder(root / "case")
    conn.send({"outside": [str(p) for p in case.outside], "marker": str(case.marker) if case.marker else None})
    outcome: dict[str, Any] = {}
    try:
        result = case.call()
        outcome["exit"] = 0
    except SystemExit as err:
        result, outcome["exit"] = None, err.code if isinstance(err.code, int) else 1
        outcome["message"] = str(err.code) if not isinstance(err.code, int) else ""
    except BaseException as err:  # noqa: BLE001 - the point is to record it
        result, outcome["error"] = err, f"{type(err).__name__}: {_first_line(str(err), 200)}"
    sys.stdout.flush()
    sys.stderr.flush()
    if case.measure is not None:
        try:
            outcome["verdict"] = case.measure(result, (root / "output.txt").read_text(errors="replace"))
        except Exception as err:  # noqa: BLE001
            outcome["verdict"] = f"(no verdict: {type(err).__name__})"
    conn.send(outcome)


def run_case(builder, limit: float) -> tuple[str, float]:
    """The outcome of one case in words, and its seconds."""
    root = Path(tempfile.mkdtemp(prefix="bad_input_"))
    (root / "case").mkdir()
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(target=_child, args=(builder, root, child))
    started = time.perf_counter()
    proc.start()
    watch, outcome = {"outside": [], "marker": None}, None
    deadline = started + limit
    with contextlib.suppress(EOFError):
        if parent.poll(max(deadline - time.perf_counter(), 0.1)):
            watch = parent.recv()
            if parent.poll(max(deadline - time.perf_counter(), 0.1)):
                outcome = parent.recv()
    seconds = time.perf_counter() - started
    if proc.is_alive():
        proc.kill()
    proc.join()
    words = []
    if any(Path(p).exists() for p in watch["outside"]):
        words.append("writes outside OUT")
    if watch["marker"] and Path(watch["marker"]).exists():
        words.append("ran code from the data folder")
    output = (root / "output.txt").read_text(errors="replace") if (root / "output.txt").exists() else ""
    output = output.replace(str(root / "case"), "<tmp>")  # before any line is cut short
    if outcome is None:
        words.append(f"hang >{limit:.0f}s" if proc.exitcode in (None, -9) and seconds >= limit else
                     f"died (exit {proc.exitcode}): {_first_line(output.splitlines()[-1] if output else '')}")
    elif "error" in outcome:
        words.append(outcome["error"])
    else:
        status = f"exit {outcome['exit']}"
        if outcome["exit"] and (outcome.get("message") or output):
            status += f": {_first_line(outcome.get('message') or output.strip().splitlines()[-1])}"
        words.append(status)
    if outcome and outcome.get("verdict"):
        words.append(outcome["verdict"])
    shutil.rmtree(root, ignore_errors=True)
    return "; ".join(words).replace(str(root / "case"), "<tmp>"), seconds


def table(cases: dict[str, dict[str, Any]], labels: list[str]) -> str:
    """Markdown: case, item, entry point, one column per label."""
    lines = ["| case | item | entry point | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for name, row in cases.items():
        cells = [row.get(label, "").replace("|", "\\|") for label in labels]
        lines.append(f"| {name} | {row['item']} | {row['entry']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run the corpus (or the named cases) and merge the outcomes into the JSON file under the label."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bad_inputs.json")
    parser.add_argument("--limit", type=float, default=25.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--only", nargs="*", default=None, help="case names (default: all)")
    args = parser.parse_args()
    modules_cache = tempfile.mkdtemp(prefix="bad_input_hf_modules_")  # where remote code would be copied to
    os.environ["HF_MODULES_CACHE"] = modules_cache
    from bad_inputs import cases as corpus

    import zoo
    import zoo.cli  # noqa: F401  (warm: every child starts with the stack imported)
    print(f"code under test: {Path(zoo.__file__).resolve().parent}", flush=True)
    data = json.loads(args.out.read_text()) if args.out.exists() else {"cases": {}, "seconds": {}}
    for name, (item, entry, builder) in corpus().items():
        if args.only and name not in args.only:
            continue
        outcome, seconds = run_case(builder, args.limit)
        row = data["cases"].setdefault(name, {})
        row.update({"item": item, "entry": entry, args.label: outcome})
        data["seconds"].setdefault(name, {})[args.label] = round(seconds, 1)
        print(f"{name}: {outcome} ({seconds:.1f} s)", flush=True)
    labels = [label for label in ("before", "after") if any(label in r for r in data["cases"].values())]
    labels += sorted({k for r in data["cases"].values() for k in r} - {"item", "entry", *labels})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    text = table(data["cases"], labels)
    args.out.with_suffix(".md").write_text(text + "\n")
    print(text)
    shutil.rmtree(modules_cache, ignore_errors=True)


if __name__ == "__main__":
    main()
