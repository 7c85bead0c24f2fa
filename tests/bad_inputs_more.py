"""The bad-input corpus, items 7-11: silent image damage, writes that lose data, `zoo score` input, smaller ones."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bad_inputs import (
    Prepared,
    count_verdict,
    fit_config,
    grey_png,
    pair_members,
    rows_of,
    score_input,
    score_rows,
    table_verdict,
    tiny_scorer,
    write_tar,
    zoo,
)
from PIL import Image


# ---- 7. silent damage to what the model sees ----------------------------------------------------------------------
def _packed_image(root: Path, name: str, data: bytes) -> Path:
    """Pack one pair whose chosen image is `data` (rejected: grey)."""
    (root / name).write_bytes(data)
    (root / "r.png").write_bytes(grey_png())
    (root / "in.jsonl").write_text(json.dumps({"prompt": "a red circle", "chosen": name, "rejected": "r.png"}) + "\n")
    return root / "in.jsonl"


def _decoded_chosen(out: Path) -> np.ndarray:
    from zoo.data.records import decode_pair
    from zoo.data.stream import ErrorLog, iter_tar_samples

    raw = next(iter_tar_samples(str(next(out.glob("train-*.tar"))), ErrorLog("raise")))
    return np.asarray(decode_pair(raw)["chosen"])


def exif_rotated_jpeg() -> bytes:
    """A JPEG stored 40 wide x 20 high with EXIF orientation 6: shown upright it is 20 x 40, red on top."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (220, 20, 20)  # left half as stored = top half once rotated 90 degrees clockwise
    stored[:, 20:] = (20, 20, 220)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def jpeg_exif_orientation(root: Path) -> Prepared:
    """7: a JPEG whose EXIF orientation says "rotate 90 degrees" (upright: red above blue)."""
    out = root / "out"

    def measure(result: Any, text: str) -> str:
        image = _decoded_chosen(out)
        top_red = image[: image.shape[0] // 4].mean(axis=(0, 1))[0] > 150
        where = "red on top (upright)" if top_red else "red on the left (as stored)"
        return f"{image.shape[1]}x{image.shape[0]}, {where}"
    return Prepared(zoo("data", "pack", _packed_image(root, "rot.jpg", exif_rotated_jpeg()), "--out", out), out,
                    measure=measure)


def gradient_16bit() -> bytes:
    """A 16-bit grey PNG: a horizontal gradient over the full 0..65535 range."""
    ramp = np.tile(np.linspace(0, 65535, 256).round().astype(np.uint16), (8, 1))
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, format="PNG")
    return buf.getvalue()


def png_16bit(root: Path) -> Prepared:
    """7: a 16-bit gradient (clipped to white by a plain convert)."""
    out = root / "out"

    def measure(result: Any, text: str) -> str:
        white = float((_decoded_chosen(out)[..., 0] == 255).mean())
        return f"{100 * white:.0f} % of the gradient white"
    return Prepared(zoo("data", "pack", _packed_image(root, "g16.png", gradient_16bit()), "--out", out), out,
                    measure=measure)


def hidden_colour_rgba() -> bytes:
    """An RGBA PNG: fully transparent pixels whose hidden colour is red, over an opaque blue square."""
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[...] = (255, 0, 0, 0)
    rgba[4:12, 4:12] = (0, 0, 255, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


def png_alpha(root: Path) -> Prepared:
    """7: transparent pixels with a hidden colour."""
    out = root / "out"

    def measure(result: Any, text: str) -> str:
        corner = tuple(int(v) for v in _decoded_chosen(out)[0, 0])
        return f"transparent pixel decodes as {corner}"
    return Prepared(zoo("data", "pack", _packed_image(root, "a.png", hidden_colour_rgba()), "--out", out), out,
                    measure=measure)


# ---- 8-9. writes that lose or hide data ---------------------------------------------------------------------------
def _old_pack(root: Path) -> Path:
    """An OUT folder that already holds one packed shard and its report."""
    (root / "c.png").write_bytes(grey_png())
    (root / "ok.jsonl").write_text(json.dumps({"prompt": "a cat", "chosen": "c.png", "rejected": "c.png"}) + "\n")
    from zoo.data.pack import pack_pairs

    pack_pairs(root / "ok.jsonl", root / "out", progress=False)
    return root / "out"


def pack_overwrite_broken(root: Path) -> Prepared:
    """8: `--overwrite true` with an input that is not JSON."""
    out = _old_pack(root)
    (root / "broken.json").write_text("[{\"prompt\": ")

    def measure(result: Any, text: str) -> str:
        report = json.loads((out / "pack_report.json").read_text())
        kept = "old shard kept" if (out / "train-000000.tar").exists() else "old shard deleted"
        return f"{kept}, report names {Path(report['input']).name}"
    return Prepared(zoo("data", "pack", root / "broken.json", "--out", out, "--overwrite", "true"), out,
                    measure=measure)


def pack_shard_size_zero(root: Path) -> Prepared:
    """8: `--shard_size 0`."""
    (root / "c.png").write_bytes(grey_png())
    (root / "in.jsonl").write_text(json.dumps({"prompt": "a cat", "chosen": "c.png", "rejected": "c.png"}) + "\n")
    out = root / "out"
    return Prepared(zoo("data", "pack", root / "in.jsonl", "--out", out, "--shard_size", "0"), out,
                    measure=lambda r, t: f"{len(list(out.glob('*.tar')))} shards")


def _group_alive(pgid: int) -> int:
    alive = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        alive += int(fields[2]) == pgid and fields[0] != "Z"
    return alive


def spatial_killed(root: Path) -> Prepared:
    """9: `zoo data spatial` with 2 workers killed (SIGKILL) once its first shard exists."""
    import zoo

    out = root / "set"
    code = ("from zoo.data.spatial import SplitSizes, build_spatial\nfrom zoo.world.pairs import PairSpec\n"
            f"build_spatial({str(out)!r}, SplitSizes(20000, 0, 0), SplitSizes(0, 0, 0), PairSpec(size=64), "
            "shard_size=500, workers=2, progress=False)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(zoo.__file__).resolve().parents[1])}

    def call() -> str:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
        deadline = time.time() + 60
        while not list((out / "pairs").glob("train-*.tar")) and time.time() < deadline:
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        written = len(list((out / "pairs").glob("train-*.tar")))
        time.sleep(3)
        alive, after = _group_alive(proc.pid), len(list((out / "pairs").glob("train-*.tar"))) - written
        if alive:
            os.killpg(proc.pid, signal.SIGKILL)  # our own process group: clean up what lingered
        return f"{alive} workers alive 3 s after the kill, {after} shards written after it"
    return Prepared(call, out, measure=lambda r, t: r)


def small_spatial(out: Path) -> Path:
    """A small spatial set: 20 training pairs in 2 shards, 4 prompts."""
    from zoo.data.spatial import SplitSizes, build_spatial
    from zoo.world.pairs import PairSpec

    build_spatial(out, SplitSizes(20, 0, 0), SplitSizes(4, 0, 0), PairSpec(size=32), shard_size=10, workers=1,
                  progress=False)
    return out


def inspect_no_manifest(root: Path) -> Prepared:
    """9: a half-built spatial set: no manifest, one of its shards missing."""
    out = small_spatial(root / "set")
    (out / "manifest.json").unlink()
    (out / "pairs" / "train-000001.tar").unlink()
    return Prepared(zoo("data", "inspect", str(out / "pairs" / "train-*.tar")), out,
                    measure=lambda r, t: "warned" if "manifest" in t.lower() else "no warning")


def inspect_corrupt_exit(root: Path) -> Prepared:
    """9: inspect on a shard with one corrupt sample (the exit status)."""
    shard = write_tar(root / "pairs.tar", pair_members("k0") + pair_members("k1", chosen=b"\x89PNG junk"))
    return Prepared(zoo("data", "inspect", shard), root, measure=count_verdict)


def spatial_deleted_shard(root: Path) -> Prepared:
    """9: rerun `zoo data spatial` after one of its shards was deleted."""
    out = small_spatial(root / "set")
    (out / "pairs" / "train-000001.tar").unlink()
    return Prepared(zoo("data", "spatial", "--out", out, "--train", 20, "--val", 0, "--test", 0, "--prompts_train", 4,
                        "--prompts_val", 0, "--prompts_test", 0, "--image_size", 32, "--shard_size", 10,
                        "--workers", 1), out,
                    measure=lambda r, t: "shard back" if (out / "pairs" / "train-000001.tar").exists() else
                    "shard still missing" + (", said reused" if "reused" in t else ""))


# ---- 10. zoo score ------------------------------------------------------------------------------------------------
def _score(root: Path, extra: list[str] | None = None) -> tuple[Path, Path, Path]:
    return tiny_scorer(root / "scorer"), score_input(root, extra), root / "out" / "scores.jsonl"


def score_cut_off_output(root: Path) -> Prepared:
    """10: the output's last line cut off by a kill mid-write."""
    scorer, inp, out = _score(root)
    out.parent.mkdir(parents=True)
    out.write_text(json.dumps({"id": "good", "score": 0.5}) + "\n" + '{"id": "good2", "sco')
    return Prepared(zoo("score", inp, "--scorer", scorer, "--out", out), out.parent, measure=score_rows(out))


def score_retry_errors(root: Path) -> Prepared:
    """10: an error row (missing image) whose image now exists, rerun with `--retry_errors true`."""
    scorer, inp, out = _score(root, [json.dumps({"id": "late", "prompt": "a red circle", "image": "late.png"})])
    from zoo.reward.score_files import score

    score(inp, scorer=scorer, out=out)
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(root / "late.png")
    return Prepared(zoo("score", inp, "--scorer", scorer, "--out", out, "--retry_errors", "true"), out.parent,
                    measure=score_rows(out))


def score_batch_size(value: int):
    def build(root: Path) -> Prepared:
        """10: `--batch_size` 0 or negative."""
        scorer, inp, out = _score(root)
        return Prepared(zoo("score", inp, "--scorer", scorer, "--out", out, "--batch_size", value), out.parent,
                        measure=score_rows(out))
    return build


def score_bad_line(line: str):
    def build(root: Path) -> Prepared:
        """10: one input line that is a JSON list, has `"image": 5`, or holds a byte that is not UTF-8."""
        scorer, inp, out = _score(root, [line])
        return Prepared(zoo("score", inp, "--scorer", scorer, "--out", out), out.parent, measure=score_rows(out))
    return build


def score_same_stem(root: Path) -> Prepared:
    """10: folder mode with a.png and a.jpg (one prompt file a.txt)."""
    folder = root / "images"
    folder.mkdir()
    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(folder / "a.jpg")
    (folder / "a.txt").write_text("a red circle to the left of a blue square")
    out = root / "out" / "scores.jsonl"
    return Prepared(zoo("score", folder, "--scorer", tiny_scorer(root / "scorer"), "--out", out), out.parent,
                    measure=lambda r, t: "ids " + ", ".join(sorted(x["id"] for x in rows_of(out))))


# ---- 11. smaller ---------------------------------------------------------------------------------------------------
def inspect_pair_without_chosen(root: Path) -> Prepared:
    """11: auto mode on a pair that lost its chosen image."""
    members = pair_members("k0") + [m for m in pair_members("k1") if "chosen" not in m[0]]
    return Prepared(zoo("data", "inspect", write_tar(root / "pairs.tar", members)), root, measure=count_verdict)


def pack_hpsv3_missing_path2(root: Path) -> Prepared:
    """11: an HPSv3 record without `path2`."""
    (root / "c.png").write_bytes(grey_png())
    (root / "in.json").write_text(json.dumps([{"prompt": "a cat", "path1": "c.png"}]))
    out = root / "out"
    return Prepared(zoo("data", "pack", root / "in.json", "--out", out), out,
                    measure=lambda r, t: json.loads((out / "pack_report.json").read_text())["errors"][0]["reason"])


def table_counts(root: Path) -> Prepared:
    """11: `zoo reward table` on 3 pairs, one of them corrupt: are the pair and skipped counts shown?"""
    shard = write_tar(root / "pairs.tar", pair_members("k0") + pair_members("k1") + pair_members("k2", chosen=b"junk"))
    return Prepared(zoo("reward", "table", shard, "--scorers", f"[{tiny_scorer(root / 'scorer')}]"), root,
                    measure=table_verdict)


def pack_non_utf8(root: Path) -> Prepared:
    """11: one line of a pack input holds a byte that is not UTF-8."""
    (root / "c.png").write_bytes(grey_png())
    good = json.dumps({"prompt": "a cat", "chosen": "c.png", "rejected": "c.png"}).encode()
    bad = b'{"prompt": "a \xff cat", "chosen": "c.png", "rejected": "c.png"}'
    (root / "in.jsonl").write_bytes(good + b"\n" + bad + b"\n")
    out = root / "out"

    def measure(result: Any, text: str) -> str:
        errors = json.loads((out / "pack_report.json").read_text())["errors"]
        return "; ".join(e["record"].rsplit("/", 1)[-1] + " " + e["reason"][:40] for e in errors)
    return Prepared(zoo("data", "pack", root / "in.jsonl", "--out", out), out, measure=measure)


def names_key(key: str):
    """A verdict on an error: does its message (the exception, or the command's `error:` line) name the config key,
    and how many lines is it."""
    def measure(result: Any, text: str) -> str:
        if isinstance(result, BaseException):
            message = str(result)
        else:
            lines = text.splitlines()
            start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
            if start is None:
                return "no error"
            end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
            message = "\n".join(lines[start:end])
        return f"{'names' if key in message else 'does not name'} {key} ({len(message.splitlines())} lines)"
    return measure


def fit_lora_targets(root: Path) -> Prepared:
    """11: `zoo fit` with LoRA targets that match no module."""
    shard = write_tar(root / "pairs.tar", pair_members("k0"))
    return Prepared(zoo("fit", "-c", fit_config(root, shard, "{mode: lora, lora_targets: 'no_such_module'}")), root,
                    measure=names_key("model.init_args.parts.lora_targets"))


def fit_negative_batch(root: Path) -> Prepared:
    """11: `batch_size: -4` in a `zoo fit` config."""
    shard = write_tar(root / "pairs.tar", pair_members("k0"))
    return Prepared(zoo("fit", "-c", fit_config(root, shard, batch_size=-4)), root,
                    measure=names_key("data.init_args.batch_size"))


def s3_without_s3fs(root: Path) -> Prepared:
    """11: an s3:// shard without s3fs installed."""
    return Prepared(zoo("data", "inspect", "s3://bucket/pairs-000000.tar"), root)


# ---- beyond the list: the same rules on neighbouring inputs -------------------------------------------------
def json_nested_deep(root: Path) -> Prepared:
    """A record's JSON nested 100000 deep (RecursionError in the json module) and a `zoo score` line like it."""
    deep = b"[" * 100000 + b"]" * 100000
    shard = write_tar(root / "pairs.tar", pair_members("k0") + pair_members("k1", meta=deep))
    return Prepared(zoo("data", "inspect", shard), root, measure=count_verdict)


def shard_is_fifo(root: Path) -> Prepared:
    """A named pipe among the shards a glob matches (opening it blocks until someone writes)."""
    write_tar(root / "pairs-000000.tar", pair_members("k0"))
    os.mkfifo(root / "pairs-000001.tar")
    return Prepared(zoo("data", "inspect", str(root / "pairs-*.tar")), root, measure=count_verdict)


def key_too_long(root: Path) -> Prepared:
    """A prompt shard key of 300 bytes: `zoo bench` would make a folder of that name (the file system refuses)."""
    from bad_inputs import TINY_SFT, judged, prompt_shard

    (root / "sft.yaml").write_text(TINY_SFT)
    shard = prompt_shard(root / "prompts.tar", ["good", "k" * 300])
    out = root / "run"
    return Prepared(zoo("bench", shard, "--out", out, "--experiment", root / "sft.yaml", "--steps", "1"), out,
                    measure=judged(out))


def scorer_processor_size(root: Path) -> Prepared:
    """A scorer folder whose image processor would resize every image to 10^12 pixels."""
    folder = tiny_scorer(root / "scorer")
    config_path = folder / "image_processor" / "preprocessor_config.json"
    config = json.loads(config_path.read_text())
    config["size"] = {"shortest_edge": 10**12, "longest_edge": 10**12}
    config_path.write_text(json.dumps(config))
    out = root / "out" / "scores.jsonl"
    return Prepared(zoo("score", score_input(root), "--scorer", folder, "--out", out), out.parent,
                    measure=score_rows(out))


MORE = {
    "jpeg_exif_orientation": ("7", "zoo data pack + shard readers", jpeg_exif_orientation),
    "png_16bit": ("7", "zoo data pack + shard readers", png_16bit),
    "png_alpha": ("7", "zoo data pack + shard readers", png_alpha),
    "pack_overwrite_broken": ("8", "zoo data pack", pack_overwrite_broken),
    "pack_shard_size_zero": ("8", "zoo data pack", pack_shard_size_zero),
    "spatial_killed": ("9", "zoo data spatial", spatial_killed),
    "inspect_no_manifest": ("9", "zoo data inspect", inspect_no_manifest),
    "inspect_corrupt_exit": ("9", "zoo data inspect", inspect_corrupt_exit),
    "spatial_deleted_shard": ("9", "zoo data spatial", spatial_deleted_shard),
    "score_cut_off_output": ("10", "zoo score", score_cut_off_output),
    "score_retry_errors": ("10", "zoo score", score_retry_errors),
    "score_batch_size_0": ("10", "zoo score", score_batch_size(0)),
    "score_batch_size_neg": ("10", "zoo score", score_batch_size(-1)),
    "score_line_json_list": ("10", "zoo score", score_bad_line("[1, 2]")),
    "score_line_image_int": ("10", "zoo score", score_bad_line('{"id": "five", "prompt": "a cat", "image": 5}')),
    "score_line_non_utf8": ("10", "zoo score",
                            score_bad_line('{"id": "bytes", "prompt": "a \udcff cat", "image": "a.png"}')),
    "score_same_stem": ("10", "zoo score", score_same_stem),
    "inspect_pair_without_chosen": ("11", "zoo data inspect", inspect_pair_without_chosen),
    "pack_hpsv3_missing_path2": ("11", "zoo data pack", pack_hpsv3_missing_path2),
    "table_counts": ("11", "zoo reward table", table_counts),
    "pack_non_utf8": ("11", "zoo data pack", pack_non_utf8),
    "fit_lora_targets": ("11", "zoo fit", fit_lora_targets),
    "fit_negative_batch": ("11", "zoo fit", fit_negative_batch),
    "s3_without_s3fs": ("11", "zoo data inspect", s3_without_s3fs),
    "json_nested_deep": ("beyond", "zoo data inspect", json_nested_deep),
    "shard_is_fifo": ("beyond", "zoo data inspect", shard_is_fifo),
    "key_too_long": ("beyond", "zoo bench", key_too_long),
    "scorer_processor_size": ("beyond", "zoo score", scorer_processor_size),
}
