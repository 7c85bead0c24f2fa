"""A corpus of hostile and broken inputs (issue 19): one function per case writes the input into a folder and
returns what to run (`Prepared.call`) and what to watch (paths outside OUT, a marker only hostile code makes).

Used by `tests/test_bad_inputs*.py` (what the fixed code must do) and by `benchmarks/bad_inputs.py` (the
before/after table). Items 7-11 are in `bad_inputs_more.py`; `CASES` lists every case of both.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import struct
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image

TINY_SCORER = dict(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                   vision_layers=1, vision_heads=2)
TINY_SFT = ("model:\n  class_path: modules.FlowMatchingModule\n  init_args:\n    policy:\n"
            "      class_path: zoo.policy.flux.FluxPolicy\n      init_args:\n"
            "        tiny: {image_size: 32, pixel_factor: 2, layers: 1, single_layers: 1, heads: 2, head_dim: 16,\n"
            "               axes_dims_rope: [4, 6, 6], text_dim: 32}\n        guidance: 1.0\n")


@dataclass
class Prepared:
    """A case ready to run: the call, the output folder, paths that must not appear, a marker of foreign code."""

    call: Callable[[], Any]
    out: Path | None = None
    outside: list[Path] = field(default_factory=list)
    marker: Path | None = None
    measure: Callable[[Any, str], str] | None = None  # (return value, printed text) -> a verdict


def zoo(*argv: Any) -> Callable[[], Any]:
    """A call of the `zoo` command line, in this process."""
    def call() -> Any:
        from zoo.cli import main

        return main([str(a) for a in argv])
    return call


@contextlib.contextmanager
def cli_error(capsys, pattern: str, code: int = 1) -> Iterator[None]:
    """Expect the `zoo` command in the block to exit with `code` after exactly one stderr line `error: MESSAGE`, with
    MESSAGE matching `pattern` (re.search), and no traceback."""
    import pytest

    with pytest.raises(SystemExit) as exit_:
        yield
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert exit_.value.code == code, err
    assert len(lines) == 1 and re.search(pattern, lines[0].removeprefix("error: ")), err
    assert "Traceback" not in err


# ---- building blocks -------------------------------------------------------------------------------------------
def png(array: np.ndarray, mode: str | None = None) -> bytes:
    """PNG bytes of an array."""
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, format="PNG") if mode else Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def grey_png(side: int = 8, value: int = 128) -> bytes:
    """A small grey RGB PNG."""
    return png(np.full((side, side, 3), value, np.uint8))


def header(name: bytes, size: int, kind: bytes = b"0", size_field: bytes | None = None) -> bytes:
    """One ustar header block with a correct checksum."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108], h[108:116], h[116:124] = b"0000644\0", b"0000000\0", b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = kind
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def member(name: str, data: bytes, kind: bytes = b"0") -> bytes:
    """A header, the data and its padding; a name over 100 bytes goes first in a GNU long-name member."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > 100:
        return member("././@LongLink", raw + b"\0", kind=b"L") + member(name[:100], data, kind)
    return header(raw, len(data), kind) + data + bytes(-len(data) % 512)


def end_blocks() -> bytes:
    """The end-of-archive marker."""
    return bytes(1024)


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """A tar shard with exactly these member names (no normalisation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(member(n, d) for n, d in members) + end_blocks())
    return path


def pair_members(key: str, chosen: bytes | None = None, rejected: bytes | None = None,
                 meta: dict | bytes | None = None) -> list[tuple[str, bytes]]:
    """The members of one pair sample (grey images and a small record by default)."""
    meta = meta if meta is not None else {"prompt": f"a red circle to the left of a blue square {key}",
                                          "n_perturbations": 1}
    raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    return [(f"{key}.chosen.png", chosen or grey_png()), (f"{key}.rejected.png", rejected or grey_png(value=90)),
            (f"{key}.json", raw)]


def world_pair_members(key: str, index: int) -> list[tuple[str, bytes]]:
    """A real world-v1 pair at 32 px."""
    from zoo.world.pairs import PairSpec, make_pair

    pair = make_pair(PairSpec(size=32), 0, "train", index)
    return pair_members(key, png(pair["chosen"]), png(pair["rejected"]), pair["json"])


def prompt_shard(path: Path, keys: list[str]) -> Path:
    """A world prompt shard whose samples carry these keys (member names `<key>.json`)."""
    from zoo.world.pairs import PairSpec, make_prompt

    return write_tar(path, [(f"{k}.json", json.dumps(make_prompt(PairSpec(size=32), 0, "test", i)).encode())
                            for i, k in enumerate(keys)])


def tiny_scorer(folder: Path) -> Path:
    """A tiny random SpatialScore scorer folder."""
    import torch

    from zoo.reward.model import RewardModel
    from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
    from zoo.reward.scorer import export_scorer

    torch.manual_seed(0)
    return export_scorer(RewardModel(QwenVLBackbone(tiny=TinyQwenVL(**TINY_SCORER))), folder)


def score_input(root: Path, extra: list[str] | None = None, images: dict[str, Image.Image] | None = None) -> Path:
    """A `zoo score` JSON-lines input: two good lines, then raw `extra` lines, images beside it."""
    images = {"a.png": Image.fromarray(np.full((32, 32, 3), 200, np.uint8)), **(images or {})}
    for name, image in images.items():
        image.save(root / name)
    lines = [json.dumps({"id": "good", "prompt": "a red circle to the left of a blue square", "image": "a.png"}),
             json.dumps({"id": "good2", "prompt": "a blue square above a red circle", "image": "a.png"})]
    path = root / "in.jsonl"
    path.write_bytes(("\n".join(lines + (extra or [])) + "\n").encode("utf-8", "surrogateescape"))
    return path


def rows_of(path: Path) -> list[dict]:
    """The JSON rows of a JSON-lines output."""
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def big_png(path: Path, side: int) -> Path:
    """A real side x side 8-bit grey PNG written row by row (cheap to make, costly to decode)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer, row, parts = zlib.compressobj(9), bytes(side + 1), []
    for _ in range(side):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def silent_server() -> tuple[socket.socket, int]:
    """A local TCP server that completes connections and never answers (the kernel's backlog accepts them)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server, server.getsockname()[1]


def count_verdict(result: Any, text: str) -> str:
    """'N read, M corrupt' from what `zoo data inspect` printed."""
    found = re.search(r"(\d+) samples in \d+ shards, (\d+) corrupt", text)
    return f"{found[1]} read, {found[2]} corrupt" if found else "no counts printed"


def judged(out: Path) -> Callable[[Any, str], str]:
    """A verdict on a `zoo bench` run: images judged, and whether a refused key was logged."""
    def measure(result: Any, text: str) -> str:
        rows = (out / "samples.jsonl").read_text().splitlines() if (out / "samples.jsonl").exists() else []
        return f"{len(rows)} images judged" + ("; unsafe key counted corrupt" if "refused as a path" in text else "")
    return measure


def skipped(result: Any, text: str) -> str:
    """A verdict on a training run: how many corrupt samples its readers logged."""
    return f"{text.count('skipped a corrupt sample')} corrupt samples skipped (logged)"


def table_verdict(result: Any, text: str) -> str:
    """A verdict on `zoo reward table`: the counts it printed."""
    found = re.search(r"\d+ pairs, \d+ skipped", text)
    return f"shows {found[0]}" if found else "no counts"


# ---- 1. path traversal through sample keys -------------------------------------------------------------------------
def bench_key_dotdot(root: Path) -> Prepared:
    """1: a prompt shard member `../../../x/p.json` under `zoo bench` with a policy."""
    (root / "sft.yaml").write_text(TINY_SFT)
    shard = prompt_shard(root / "prompts.tar", ["good", "../../../x/p"])
    out = root / "a" / "b" / "run"
    return Prepared(zoo("bench", shard, "--out", out, "--experiment", root / "sft.yaml", "--steps", "1"), out,
                    [root / "a" / "x"], measure=judged(out))


def bench_key_absolute(root: Path) -> Prepared:
    """1: a prompt shard member with an absolute name `/abs/q.json`."""
    (root / "sft.yaml").write_text(TINY_SFT)
    shard = prompt_shard(root / "prompts.tar", ["good", str(root / "abs" / "q")])
    out = root / "run"
    return Prepared(zoo("bench", shard, "--out", out, "--experiment", root / "sft.yaml", "--steps", "1"), out,
                    [root / "abs"],
                    measure=judged(out))


def construct_key_dotdot(root: Path) -> Prepared:
    """1: `zoo data construct` on a prompt shard whose key climbs out of OUT (review images use the key)."""
    (root / "policy.yaml").write_text(TINY_SFT)
    shard = prompt_shard(root / "prompts.tar", ["../../../elsewhere/r"])
    out = root / "out"
    return Prepared(zoo("data", "construct", shard, "--out", out, "--experiment", root / "policy.yaml", "--rule",
                        "ranked",
                        "--images_per_prompt", "2", "--steps", "1", "--margin", "-1"), out, [root / "elsewhere"],
                    measure=lambda r, t: "unsafe key counted corrupt" if "refused as a path" in t else "")


def pack_split_dotdot(root: Path) -> Prepared:
    """1: `zoo data pack --split ../../x` writes its shard outside OUT."""
    (root / "c.png").write_bytes(grey_png())
    (root / "in.jsonl").write_text(json.dumps({"prompt": "a cat", "chosen": "c.png", "rejected": "c.png"}) + "\n")
    out = root / "a" / "out"
    return Prepared(zoo("data", "pack", root / "in.jsonl", "--out", out, "--split", "../../x"), out,
                    [root / "x-000000.tar"])


def shard_key_backslash_drive(root: Path) -> Prepared:
    """1: keys with a backslash or a drive letter (harmless here, an escape on Windows) are corrupt samples."""
    members = pair_members("good") + pair_members("..\\..\\x\\p") + pair_members("C:/x/p") + pair_members("D:y")
    shard = write_tar(root / "pairs.tar", members)
    return Prepared(zoo("data", "inspect", shard), root, measure=count_verdict)


# ---- 2. code and settings from a folder ----------------------------------------------------------------------------
def scorer_remote_code(root: Path) -> Prepared:
    """2: `trust_remote_code: true` in scorer.json plus an `auto_map` to a Python file in the folder."""
    folder = tiny_scorer(root / "scorer")
    meta = json.loads((folder / "scorer.json").read_text())
    meta["backbone"]["trust_remote_code"] = True
    (folder / "scorer.json").write_text(json.dumps(meta))
    config = json.loads((folder / "model" / "config.json").read_text())
    config["auto_map"] = {"AutoModelForImageTextToText": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
    (folder / "model" / "config.json").write_text(json.dumps(config))
    marker = root / "code_ran"
    (folder / "model" / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration\n"
        "class EvilConfig(Qwen2_5_VLConfig):\n    pass\n"
        "class EvilModel(Qwen2_5_VLForConditionalGeneration):\n    config_class = EvilConfig\n")
    return Prepared(zoo("score", score_input(root), "--scorer", folder, "--out", root / "out" / "scores.jsonl"),
                    root / "out",
                    marker=marker)


def scorer_bad_setting(root: Path) -> Prepared:
    """2: `max_prompt_tokens: 0` in scorer.json (silently made every score the same)."""
    folder = tiny_scorer(root / "scorer")
    meta = json.loads((folder / "scorer.json").read_text())
    meta["backbone"]["max_prompt_tokens"] = 0
    (folder / "scorer.json").write_text(json.dumps(meta))
    out = root / "out" / "scores.jsonl"

    def measure(result: Any, text: str) -> str:
        scores = {round(r["score"], 4) for r in rows_of(out) if "score" in r} if out.exists() else set()
        return f"scores: {sorted(scores)}"
    return Prepared(zoo("score", score_input(root), "--scorer", folder, "--out", out), root / "out", measure=measure)


def policy_export_config(root: Path) -> Prepared:
    """2: a policy export whose transformer/config.json names another architecture (and an unknown key)."""
    from zoo.policy.io import build_policy

    (root / "sft.yaml").write_text(TINY_SFT)
    policy = build_policy(root / "sft.yaml")
    policy.save(root / "weights")
    config_path = root / "weights" / "transformer" / "config.json"
    config = json.loads(config_path.read_text())
    config.update(num_layers=3, auto_map={"AutoModel": "evil.Model"})
    config_path.write_text(json.dumps(config))
    shard = prompt_shard(root / "prompts.tar", ["p0"])
    return Prepared(zoo("bench", shard, "--out", root / "run", "--experiment", root / "sft.yaml", "--weights",
                        root / "weights",
                        "--steps", "1"), root / "run")


def construct_stats_bad(root: Path) -> Prepared:
    """2: a construct output folder whose per-chunk stats file holds the wrong types."""
    (root / "policy.yaml").write_text(TINY_SFT)
    shard = prompt_shard(root / "prompts.tar", ["p0"])
    out = root / "out"
    write_tar(out / "train-000000.tar", [])
    (out / "stats").mkdir(parents=True)
    stats = {"prompts": 1, "pairs": "many", "reasons": {}, "failures": [], "no_pair": []}
    (out / "stats" / "train-000000.json").write_text(json.dumps(stats))
    return Prepared(zoo("data", "construct", shard, "--out", out, "--experiment", root / "policy.yaml", "--rule",
                        "ranked"), out)


# ---- 3. unbounded reads --------------------------------------------------------------------------------------------
def tar_huge_member(root: Path) -> Prepared:
    """3: a 13 KB shard whose third member declares 2^50 bytes."""
    size_field = bytes([0x80]) + (2**50).to_bytes(11, "big")
    good = b"".join(member(n, d) for n, d in pair_members("k0"))
    body = good + header(b"k1.chosen.png", 0, size_field=size_field) + bytes(8192)
    (root / "huge.tar").write_bytes(body)
    return Prepared(zoo("data", "inspect", root / "huge.tar"), root, measure=count_verdict)


def png_over_pixel_limit(root: Path) -> Prepared:
    """3: a 12000 x 12000 PNG (under PIL's own bomb limit) as a pair image."""
    big = big_png(root / "big.png", 12000).read_bytes()
    shard = write_tar(root / "pairs.tar", pair_members("big", chosen=big) + pair_members("good"))
    return Prepared(zoo("data", "inspect", shard), root, measure=count_verdict)


def http_never_answers(root: Path) -> Prepared:
    """3: an HTTP shard source that accepts the connection and never answers (timeout set to 2 s)."""
    import os

    server, port = silent_server()
    os.environ["ZOO_REMOTE_TIMEOUT"] = "2"

    def call() -> Any:
        try:
            return zoo("data", "inspect", f"http://127.0.0.1:{port}/pairs.tar")()
        finally:
            server.close()
    return Prepared(call, root)


# ---- 4-6. runs that never end or die on one sample ----------------------------------------------------------------
FIT_CONFIG = """seed_everything: 0
model:
  class_path: modules.RewardModule
  init_args:
    backbone:
      class_path: zoo.reward.qwen_vl.QwenVLBackbone
      init_args:
        tiny: {{image_size: 32, patch_size: 8, hidden_size: 32, layers: 1, heads: 2, kv_heads: 1,
               vision_hidden_size: 32, vision_layers: 1, vision_heads: 2}}
    parts: {parts}
data:
  class_path: datamodules.PreferencePairDataModule
  init_args: {{train: {train}, batch_size: {batch_size}, train_samples_per_epoch: 8, shuffle_buffer: 0}}
trainer:
  max_steps: 3
  accelerator: cpu
  logger: false
  enable_checkpointing: false
  enable_progress_bar: false
  enable_model_summary: false
  default_root_dir: {root}
"""


def fit_config(root: Path, train: Path, parts: str = "{mode: full}", batch_size: int = 2) -> Path:
    """A `zoo fit` config: the tiny reward model on these training shards, 3 steps."""
    path = root / "fit.yaml"
    path.write_text(FIT_CONFIG.format(parts=parts, train=train, batch_size=batch_size, root=root / "fit"))
    return path


def fit_all_corrupt(root: Path) -> Prepared:
    """4: `zoo fit` on shards whose samples are all corrupt (bad PNGs)."""
    shard = write_tar(root / "bad.tar", [m for i in range(4) for m in pair_members(f"k{i}", chosen=b"\x89PNG junk")])
    return Prepared(zoo("fit", "-c", fit_config(root, shard)), root)


def _with_one_bad(root: Path, bad: list[tuple[str, bytes]]) -> Path:
    members = [m for i in range(3) for m in world_pair_members(f"k{i}", i)]
    return write_tar(root / "pairs.tar", members[:3] + bad + members[3:])


def sliver_pair(root: Path) -> Path:
    """A pair shard with one 300 x 1 image among good pairs."""
    return _with_one_bad(root, pair_members("sliver", chosen=png(np.full((1, 300, 3), 255, np.uint8))))


def surrogate_pair(root: Path) -> Path:
    """A pair shard with one prompt holding a lone surrogate among good pairs."""
    meta = b'{"prompt": "a cat \\ud800 left of a dog", "n_perturbations": 1}'
    return _with_one_bad(root, pair_members("sur", meta=meta))


def fit_sliver(root: Path) -> Prepared:
    """5: one 300 x 1 image (past the Qwen processor's aspect-ratio limit) in a training shard."""
    return Prepared(zoo("fit", "-c", fit_config(root, sliver_pair(root))), root, measure=skipped)


def fit_surrogate(root: Path) -> Prepared:
    """5: one prompt with a lone surrogate in a training shard."""
    return Prepared(zoo("fit", "-c", fit_config(root, surrogate_pair(root))), root, measure=skipped)


def table_sliver(root: Path) -> Prepared:
    """5: `zoo reward table` on pairs with one 300 x 1 image."""
    return Prepared(zoo("reward", "table", sliver_pair(root), "--scorers", f"[{tiny_scorer(root / 'scorer')}]"), root,
                    measure=table_verdict)


def table_surrogate(root: Path) -> Prepared:
    """5: `zoo reward table` on pairs with one lone-surrogate prompt."""
    return Prepared(zoo("reward", "table", surrogate_pair(root), "--scorers", f"[{tiny_scorer(root / 'scorer')}]"),
                    root, measure=table_verdict)


def score_rows(out: Path) -> Callable[[Any, str], str]:
    """A verdict: how many rows of a `zoo score` output have a score and how many an error."""
    def measure(result: Any, text: str) -> str:
        rows = rows_of(out) if out.exists() else []
        return f"{sum('score' in r for r in rows)} scored, {sum('error' in r for r in rows)} error rows"
    return measure


def score_sliver(root: Path) -> Prepared:
    """5: `zoo score` with one 300 x 1 image among good ones."""
    sliver = Image.fromarray(np.full((1, 300, 3), 255, np.uint8))
    extra = [json.dumps({"id": "sliver", "prompt": "a red circle", "image": "s.png"})]
    out = root / "out" / "scores.jsonl"
    return Prepared(zoo("score", score_input(root, extra, {"s.png": sliver}), "--scorer",
                        tiny_scorer(root / "scorer"), "--out", out),
                    root / "out", measure=score_rows(out))


def score_surrogate(root: Path) -> Prepared:
    """5: `zoo score` with one prompt holding a lone surrogate."""
    extra = ['{"id": "sur", "prompt": "a cat \\ud800 left of a dog", "image": "a.png"}']
    out = root / "out" / "scores.jsonl"
    return Prepared(zoo("score", score_input(root, extra), "--scorer", tiny_scorer(root / "scorer"), "--out", out),
                    root / "out",
                    measure=score_rows(out))


def tar_bad_pax(root: Path) -> Prepared:
    """6: a pax header whose record has no space (IndexError in the parser)."""
    body = b"".join(member(n, d) for n, d in pair_members("k0"))
    body += member("pax", b"3\n\n", kind=b"x") + b"".join(member(n, d) for n, d in pair_members("k1"))
    (root / "pax.tar").write_bytes(body + end_blocks())
    return Prepared(zoo("data", "inspect", root / "pax.tar"), root, measure=count_verdict)


def tar_pax_zero_length(root: Path) -> Prepared:
    """6: a pax record of length 0 (the old parser loops on it forever)."""
    body = member("pax", b"0 path=x\n", kind=b"x") + b"".join(member(n, d) for n, d in pair_members("k0"))
    (root / "pax0.tar").write_bytes(body + end_blocks())
    return Prepared(zoo("data", "inspect", root / "pax0.tar"), root, measure=count_verdict)


def tar_flipped_byte(root: Path) -> Prepared:
    """6: eight pairs; one byte flipped in the header of the second pair's first member."""
    shard = write_tar(root / "pairs.tar", [m for i in range(8) for m in pair_members(f"k{i}")])
    with tarfile.open(shard) as tar:
        offset = tar.getmembers()[3].offset
    data = bytearray(shard.read_bytes())
    data[offset + 1] ^= 0x01  # in the name: the checksum no longer matches
    shard.write_bytes(bytes(data))
    return Prepared(zoo("data", "inspect", shard), root, measure=count_verdict)


def tar_bad_size_field(root: Path) -> Prepared:
    """6: a member whose size field is not octal (with a correct checksum)."""
    body = b"".join(member(n, d) for n, d in pair_members("k0"))
    body += header(b"k1.chosen.png", 0, size_field=b"zzzzzzzzzzz\0") + b"".join(
        member(n, d) for n, d in pair_members("k2"))
    (root / "size.tar").write_bytes(body + end_blocks())
    return Prepared(zoo("data", "inspect", root / "size.tar"), root, measure=count_verdict)


def cases() -> dict[str, tuple[str, str, Callable[[Path], Prepared]]]:
    """Every case: name -> (issue item, entry point, builder)."""
    from bad_inputs_more import MORE

    own = {
        "bench_key_dotdot": ("1", "zoo bench", bench_key_dotdot),
        "bench_key_absolute": ("1", "zoo bench", bench_key_absolute),
        "construct_key_dotdot": ("1", "zoo data construct", construct_key_dotdot),
        "pack_split_dotdot": ("1", "zoo data pack", pack_split_dotdot),
        "shard_key_backslash_drive": ("1", "zoo data inspect", shard_key_backslash_drive),
        "scorer_remote_code": ("2", "zoo score", scorer_remote_code),
        "scorer_bad_setting": ("2", "zoo score", scorer_bad_setting),
        "policy_export_config": ("2", "zoo bench --weights", policy_export_config),
        "construct_stats_bad": ("2", "zoo data construct", construct_stats_bad),
        "tar_huge_member": ("3", "zoo data inspect", tar_huge_member),
        "png_over_pixel_limit": ("3", "zoo data inspect", png_over_pixel_limit),
        "http_never_answers": ("3", "zoo data inspect", http_never_answers),
        "fit_all_corrupt": ("4", "zoo fit", fit_all_corrupt),
        "fit_sliver": ("5", "zoo fit", fit_sliver),
        "fit_surrogate": ("5", "zoo fit", fit_surrogate),
        "table_sliver": ("5", "zoo reward table", table_sliver),
        "table_surrogate": ("5", "zoo reward table", table_surrogate),
        "score_sliver": ("5", "zoo score", score_sliver),
        "score_surrogate": ("5", "zoo score", score_surrogate),
        "tar_bad_pax": ("6", "zoo data inspect", tar_bad_pax),
        "tar_pax_zero_length": ("6", "zoo data inspect", tar_pax_zero_length),
        "tar_flipped_byte": ("6", "zoo data inspect", tar_flipped_byte),
        "tar_bad_size_field": ("6", "zoo data inspect", tar_bad_size_field),
    }
    return {**own, **MORE}
