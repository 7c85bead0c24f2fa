"""`zoo report RUN_DIR`: the pipeline's report.md, built only from the stages' own outputs.

Table 1 (reward accuracy by perturbation bucket) comes from `zoo reward table`'s JSON, Table 2
(SpatialBench of the starting policy and of GRPO with each reward) from `zoo bench`'s summary.json
files, and the plots of reward and KL over steps from the GRPO runs' `rl_stats.jsonl`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw

from zoo.bench.run import side_by_side
from zoo.data.images import read_image
from zoo.data.writing import write_json_atomic
from zoo.reward.metrics import format_table

POLICIES = {"sft": "starting policy (SFT)", "grpo_verifier": "GRPO, verifier reward (Flow-GRPO*)",
            "grpo_spatialscore": "GRPO, SpatialScore reward"}
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
NO_CONFIGS = hashlib.sha256().hexdigest()  # the digest of a stage that reads no config file
DELTA_COLUMNS = ("Overall", "objects found", "colour found", "clutter", "Overall (v1)", "placement",
                 "SpatialScore")


def smoothed(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average over up to `window` values (the first points average what there is)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _faint(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * 0.65) for c in colour)


def line_plot(series: dict[str, Sequence[tuple[float, float]]], title: str, path: Path, ylabel: str = "value",
              xlabel: str = "step", smooth: int = 1, size: tuple[int, int] = (640, 360)) -> Path:
    """A PNG line plot of named (x, y) series with labelled axes, the value range and a legend (PIL only); with
    `smooth` > 1 each series is drawn faint as measured and solid as a trailing `smooth`-point moving average."""
    w, h = size
    left, right, top, bottom = 70, 20, 30, 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    points = [p for s in series.values() for p in s]
    if not points:
        raise ValueError(f"nothing to plot for {title!r}")
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1e-9)

    def xy(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (w - left - right), h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom))

    draw.rectangle([left, top, w - right, h - bottom], outline=(0, 0, 0))
    draw.text((left, 8), title, fill=(0, 0, 0))
    draw.text((4, top), f"{y1:.3g}", fill=(0, 0, 0))
    draw.text((4, h - bottom - 10), f"{y0:.3g}", fill=(0, 0, 0))
    draw.text((left, h - bottom + 6), f"{x0:g}", fill=(0, 0, 0))
    draw.text((w - right - 40, h - bottom + 6), f"{x1:g}", fill=(0, 0, 0))
    draw.text(((w - 20) // 2, h - bottom + 18), xlabel, fill=(0, 0, 0))
    draw.text((4, (top + h - bottom) // 2), ylabel[:10], fill=(0, 0, 0))
    for i, (name, pts) in enumerate(series.items()):
        colour, pts = COLOURS[i % len(COLOURS)], sorted(pts)
        lines = [(pts, colour, 2)]
        if smooth > 1 and len(pts) > smooth:
            mean = smoothed([y for _, y in pts], smooth)
            lines = [(pts, _faint(colour), 1), ([(x, m) for (x, _), m in zip(pts, mean)], colour, 2)]
            name += f" ({smooth}-point moving average; faint: as measured)"
        for line, fill, width in lines:
            if len(line) > 1:
                draw.line([xy(x, y) for x, y in line], fill=fill, width=width)
        draw.text((left + 10, top + 8 + 14 * i), name, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def rl_stats(run: Path, name: str = "rl_stats.jsonl") -> list[dict]:
    """The rows of a GRPO run's newest rl_stats.jsonl (or `name`, e.g. val_stats.jsonl)."""
    files = sorted(run.glob(f"**/{name}"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise FileNotFoundError(f"no {name} under {run} (is the RLStatsTracker callback on?)")
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def sample_grid(bench_dir: Path, path: Path, count: int = 32, columns: int = 8, scale: int = 3) -> Path | None:
    """A PNG grid of a SpatialBench run's first `count` images (k = 0, in samples.jsonl order), enlarged `scale`
    times without smoothing so that shapes stay visible; None when the run kept no images."""
    rows = rl_stats(bench_dir, "samples.jsonl") if (bench_dir / "samples.jsonl").is_file() else []
    files = [bench_dir / "images" / r["item"] / f"{r['k']}.png" for r in rows if r.get("k") == 0][:count]
    images = [read_image(f) for f in files if f.is_file()]
    if not images:
        return None
    w, h = images[0].size
    grid = Image.new("RGB", (columns * (w + 2), -(-len(images) // columns) * (h + 2)), (128, 128, 128))
    for i, image in enumerate(images):
        grid.paste(image, ((i % columns) * (w + 2), (i // columns) * (h + 2)))
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST).save(path)
    return path


def deltas(benches: dict[str, dict]) -> list[str]:
    """One line per GRPO run: its SpatialBench columns minus the starting policy's."""
    start = benches.get(POLICIES["sft"])
    if start is None:
        return []
    lines = []
    for label, summary in benches.items():
        if label == POLICIES["sft"]:
            continue
        diff = {c: v - start["table"][c] for c, v in summary["table"].items()
                if c in start["table"] and c in DELTA_COLUMNS}
        lines.append(f"- {label} minus SFT: " + ", ".join(f"{c} {d:+.3f}" for c, d in diff.items()))
    return lines


def _code(record: dict) -> str:
    code = record.get("code") or {}
    commit = code.get("commit")
    text = f"{commit[:12]}{' (modified)' if code.get('dirty') else ''}" if commit else "not a git checkout"
    return f"zoo {code['version']}, {text}" if "version" in code else "not recorded"


def _configs(record: dict) -> str:
    digest = str(record.get("configs") or "")
    return "-" if not digest or digest == NO_CONFIGS else digest[:12]


def provenance(stages: list[dict]) -> list[str]:
    """The stages table: wall seconds, the SHA-256 of the configs each stage read and the code that ran it."""
    if not stages:
        return []
    lines = ["", "## Stages (wall seconds; stages ran side by side) and provenance", "",
             "| stage | seconds | configs (SHA-256, first 12) | code |", "|---|---|---|---|"]
    lines += [f"| {r['stage']} | {r['seconds']} | {_configs(r)} | {_code(r)} |"
              for r in sorted(stages, key=lambda r: r["stage"])]
    commits = {(r.get("code") or {}).get("commit") for r in stages}
    if len(commits) > 1:
        lines += ["", f"Note: the stages ran on {len(commits)} different code versions (see the code column)."]
    return lines


def report(run_dir: Path) -> Path:
    """Write `run_dir/report.md` (and `report.json`, plots under `run_dir/plots/`) from the stages' outputs.

    Args:
        run_dir: a pipeline run folder.
    """
    run_dir = Path(run_dir)
    rewards = json.loads((run_dir / "reward/table.json").read_text())
    benches = {label: json.loads((run_dir / "bench" / name / "summary.json").read_text())
               for name, label in POLICIES.items() if (run_dir / "bench" / name / "summary.json").exists()}
    plots, curves, held_out = {}, {}, {}
    for name in ("grpo_verifier", "grpo_spatialscore"):
        if (run_dir / name).is_dir():
            curves[POLICIES[name]] = rl_stats(run_dir / name)
            if list((run_dir / name).glob("**/val_stats.jsonl")):
                held_out[POLICIES[name]] = [(r["step"], r["relations"]) for r in rl_stats(run_dir / name, "val_stats.jsonl")]
    for name, label in POLICIES.items():  # one reward plot per run: the rewards have different scales
        if label in curves:
            points = [(r["step"], r["reward_mean"]) for r in curves[label]]
            plots[f"reward_{name}"] = line_plot({label: points}, f"rollout reward, mean over the step's images: {label}",
                                                run_dir / "plots" / f"reward_{name}.png", ylabel="reward",
                                                xlabel="optimizer step", smooth=5)
    grids = {name: sample_grid(run_dir / "bench" / name, run_dir / "plots" / f"samples_{name}.png")
             for name in POLICIES if (run_dir / "bench" / name).is_dir()}
    if held_out:
        plots["held_out_relations"] = line_plot(held_out, "held-out prompts: relations satisfied (world v1.1) over GRPO steps",
                                                run_dir / "plots" / "held_out_relations.png", ylabel="relations",
                                                xlabel="optimizer step")
    for key, title in (("approx_kl", "approx KL to the rollout policy"),
                       ("kl_ref", "KL to the reference (beta > 0 only)")):
        series = {label: [(r["step"], r[key]) for r in rows if key in r] for label, rows in curves.items()}
        series = {label: pts for label, pts in series.items() if pts}
        if series:
            plots[key] = line_plot(series, title, run_dir / "plots" / f"{key}.png", ylabel="KL",
                                   xlabel="optimizer step", smooth=5)
    records = (json.loads(p.read_text()) for p in sorted((run_dir / "stages").glob("*.json")))
    stages = [r for r in records if "stage" in r and "seconds" in r]  # check_summary.json lives there too
    lines = ["# SpatialShapes run report", "",
             "## Table 1: reward accuracy on held-out preference pairs", "", format_table(rewards), "",
             "## Table 2: SpatialBench (held-out prompts, verified from pixels)", "",
             side_by_side(benches) if benches else "(no benchmark runs)", "",
             "Columns (world v1.1, docs/world.md; n = images behind each column): mean fraction of a prompt's "
             "relations satisfied, by relation count and Overall (a relation counts only when both objects are "
             "found with the right colour and shape); objects found (right colour and shape); colour found (any "
             "shape); clutter (fraction of the canvas in palette colours outside the found objects); Overall (v1) "
             "(the older rule, objects found by colour alone); placement (of the relations whose two objects were "
             "found, the fraction satisfied; n = those relations): drawing and placing told apart; mean SpatialScore "
             "of the images.", "",
             *deltas(benches), "", "Samples (the first 32 held-out prompts, one image each, as judged above):", ""]
    lines += [f"{POLICIES[name]}:\n\n![samples_{name}](plots/{path.name})\n" for name, path in grids.items() if path]
    lines += ["## Training curves", ""]
    lines += [f"![{key}](plots/{path.name})" for key, path in plots.items()]
    for label, rows in curves.items():
        last = rows[-1]
        lines.append(f"- {label}: {len(rows)} rollouts to step {last['step']}, last reward "
                     f"{last['reward_mean']:.3f}, approx KL {last.get('approx_kl', float('nan')):.2e}")
    lines += provenance(stages)
    out = run_dir / "report.md"
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out)
    write_json_atomic(run_dir / "report.json", {"rewards": rewards, "benchmarks": benches,
                                                "plots": {k: str(p) for k, p in plots.items()}})
    print("\n".join(lines[:12 + len(benches) + len(rewards)]))
    print(f"report: {out}")
    return out
