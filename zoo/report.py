"""`zoo report RUN_DIR`: the pipeline's report.md, built only from the stages' own outputs.

Table 1 (reward accuracy by perturbation bucket) comes from `zoo reward table`'s JSON, Table 2
(SpatialBench of the starting policy and of GRPO with each reward) from `zoo bench`'s summary.json
files, and the plots of reward and KL over steps from the GRPO runs' `rl_stats.jsonl`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw

from zoo.bench.run import side_by_side
from zoo.data.writing import write_json_atomic
from zoo.reward.metrics import format_table

POLICIES = {"sft": "starting policy (SFT)", "grpo_verifier": "GRPO, verifier reward (Flow-GRPO*)",
            "grpo_spatialscore": "GRPO, SpatialScore reward"}
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]


def line_plot(series: dict[str, Sequence[tuple[float, float]]], title: str, path: Path,
              size: tuple[int, int] = (640, 360)) -> Path:
    """A PNG line plot of named (x, y) series with axes, the value range and a legend (PIL only)."""
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
    draw.text(((w - 20) // 2, h - bottom + 18), "step", fill=(0, 0, 0))
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        coords = [xy(x, y) for x, y in sorted(pts)]
        if len(coords) > 1:
            draw.line(coords, fill=colour, width=2)
        draw.text((left + 10, top + 8 + 14 * i), name, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def rl_stats(run: Path) -> list[dict]:
    """The rows of a GRPO run's newest rl_stats.jsonl."""
    files = sorted(run.glob("**/rl_stats.jsonl"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise FileNotFoundError(f"no rl_stats.jsonl under {run} (is the RLStatsTracker callback on?)")
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def report(run_dir: Path) -> Path:
    """Write `run_dir/report.md` (and `report.json`, plots under `run_dir/plots/`) from the stages' outputs.

    Args:
        run_dir: a pipeline run folder.
    """
    run_dir = Path(run_dir)
    rewards = json.loads((run_dir / "reward/table.json").read_text())
    benches = {label: json.loads((run_dir / "bench" / name / "summary.json").read_text())
               for name, label in POLICIES.items() if (run_dir / "bench" / name / "summary.json").exists()}
    plots, curves = {}, {}
    for name in ("grpo_verifier", "grpo_spatialscore"):
        if (run_dir / name).is_dir():
            curves[POLICIES[name]] = rl_stats(run_dir / name)
    for name, label in POLICIES.items():  # one reward plot per run: the rewards have different scales
        if label in curves:
            points = [(r["step"], r["reward_mean"]) for r in curves[label]]
            plots[f"reward_{name}"] = line_plot({label: points}, f"rollout reward, mean over the step's images: {label}",
                                                run_dir / "plots" / f"reward_{name}.png")
    for key, title in (("approx_kl", "approx KL to the rollout policy"),
                       ("kl_ref", "KL to the reference (beta > 0 only)")):
        series = {label: [(r["step"], r[key]) for r in rows if key in r] for label, rows in curves.items()}
        series = {label: pts for label, pts in series.items() if pts}
        if series:
            plots[key] = line_plot(series, title, run_dir / "plots" / f"{key}.png")
    records = (json.loads(p.read_text()) for p in sorted((run_dir / "stages").glob("*.json")))
    stages = [r for r in records if "stage" in r and "seconds" in r]  # check_summary.json lives there too
    lines = ["# SpatialShapes run report", "",
             "## Table 1: reward accuracy on held-out preference pairs", "", format_table(rewards), "",
             "## Table 2: SpatialBench (held-out prompts, verified from pixels)", "",
             side_by_side(benches) if benches else "(no benchmark runs)", "",
             "Columns: mean fraction of a prompt's relations satisfied (by relation count, Overall), fraction "
             "of objects found, mean SpatialScore of the images.", "", "## Training curves", ""]
    lines += [f"![{key}](plots/{path.name})" for key, path in plots.items()]
    for label, rows in curves.items():
        last = rows[-1]
        lines.append(f"- {label}: {len(rows)} rollouts to step {last['step']}, last reward "
                     f"{last['reward_mean']:.3f}, approx KL {last.get('approx_kl', float('nan')):.2e}")
    if stages:
        lines += ["", "## Stages (wall seconds; stages ran side by side)", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {r['stage']} | {r['seconds']} |" for r in sorted(stages, key=lambda r: r["stage"])]
    out = run_dir / "report.md"
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out)
    write_json_atomic(run_dir / "report.json", {"rewards": rewards, "benchmarks": benches,
                                                "plots": {k: str(p) for k, p in plots.items()}})
    print("\n".join(lines[:12 + len(benches) + len(rewards)]))
    print(f"report: {out}")
    return out
