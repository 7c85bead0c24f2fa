#!/usr/bin/env bash
# The installable-wheel check, offline: build the wheel from the tracked files, install it into a fresh venv that
# already holds torch (kept as it is), then from a folder outside the repository run `zoo --version`, `zoo score` on
# a tiny scorer and image folder made on the fly (by folder and by Hub id from a hand-built offline HF cache), and
# find a shipped config.
#
#   scripts/check_wheel.sh [PYTHON]
#
# PYTHON (default .venv/bin/python) is an environment that holds torch, zoo's dependencies and setuptools>=77 (the
# README's install gives one). The fresh venv sees that environment's packages through a .pth file (so torch and
# the rest are there already, as a cluster's torch would be) but not its zoo: zoo comes only from the wheel, and pip
# must find every other requirement satisfied without an index (--no-index), so nothing is downloaded or replaced.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${1:-$repo/.venv/bin/python}
case $py in /*) ;; *) py="$PWD/$py" ;; esac  # absolute, not resolved: a venv's python is a symlink
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 HF_HOME="$work/hf" TQDM_DISABLE=1
step() { echo "== $*"; }
quiet() { grep -v "^WARNING: Location" || true; }  # this machine's pip.conf names index folders it lacks

step "wheel from the tracked files (offline: --no-build-isolation --no-deps --no-index)"
mkdir -p "$work/src"
(cd "$repo" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work/src"
"$py" -m pip wheel -q --no-build-isolation --no-deps --no-index "$work/src" -w "$work/dist" 2>&1 | quiet
wheel=$(ls "$work"/dist/zoo-*.whl)
echo "$(basename "$wheel"): $(unzip -l "$wheel" | grep -c 'zoo/configs/.*\.yaml$') shipped configs" \
     "(configs/ holds $(cd "$repo" && git ls-files 'configs/*.yaml' | wc -l))"

step "fresh venv that already holds torch (the tested environment's packages, without its zoo)"
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$work/deps"
for entry in "$site"/*; do
  case $(basename "$entry") in zoo-*|__editable__*zoo*|zoo) ;; *) ln -s "$entry" "$work/deps/" ;; esac
done
base=$("$py" -c 'import sys; print(sys._base_executable)')
"$base" -m venv --without-pip "$work/venv"  # pip and setuptools come with the tested packages
vpy="$work/venv/bin/python"
echo "$work/deps" > "$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tested_env.pth"
torch_before=$("$vpy" -c 'import torch; print(torch.__version__, torch.__file__)')
echo "torch before: $torch_before"

step "pip install the wheel (--no-index: every requirement must already be satisfied)"
"$vpy" -m pip install -q --no-index "$wheel" 2>&1 | quiet
torch_after=$("$vpy" -c 'import torch; print(torch.__version__, torch.__file__)')
echo "torch after:  $torch_after"
[ "$torch_before" = "$torch_after" ] || { echo "torch changed" >&2; exit 1; }

mkdir -p "$work/outside" && cd "$work/outside"
step "zoo --version (from $PWD)"
"$work/venv/bin/zoo" --version
"$vpy" -c 'import zoo, sys; from zoo import Scorer; assert zoo.__file__.startswith(sys.prefix), zoo.__file__
from zoo.config_files import resolve_config; print("zoo from", zoo.__file__)
print("configs/sft/tiny_flux.yaml ->", resolve_config("configs/sft/tiny_flux.yaml"))'

step "a tiny scorer, an image folder and an offline Hub cache"
"$vpy" - <<'EOF'
from pathlib import Path
import torch
from PIL import Image
from zoo.reward.model import RewardModel
from zoo.reward.qwen_vl import QwenVLBackbone, TinyQwenVL
from zoo.reward.scorer import export_scorer
from zoo.world import PairSpec, make_pair

torch.manual_seed(0)
tiny = TinyQwenVL(image_size=32, patch_size=8, hidden_size=32, layers=1, heads=2, kv_heads=1, vision_hidden_size=32,
                  vision_layers=1, vision_heads=2)
export_scorer(RewardModel(QwenVLBackbone(tiny=tiny)), Path("scorer"))
Path("images").mkdir()
for i in range(4):
    pair = make_pair(PairSpec(size=32), 0, "val", i)
    Image.fromarray(pair["chosen"]).save(f"images/{i}.png")
    Path(f"images/{i}.txt").write_text(pair["json"]["prompt"])
import os, shutil
commit = "0" * 40
repo = Path(os.environ["HF_HOME"]) / "hub" / "models--someone--tiny-scorer"
shutil.copytree("scorer", repo / "snapshots" / commit)
(repo / "refs").mkdir()
(repo / "refs" / "main").write_text(commit)
EOF

# `zoo score SCORER INPUT OUTPUT`, or `zoo score INPUT --scorer S --out O` where the CLI takes that form
score() {
  if "$work/venv/bin/zoo" score --help 2>/dev/null | grep -q -- "--scorer"; then
    "$work/venv/bin/zoo" score images --scorer "$1" --out "$2"
  else
    "$work/venv/bin/zoo" score "$1" images "$2"
  fi
}
step "zoo score (scorer folder)"
score scorer by_folder.jsonl 2>&1 | grep -v "it/s\]" || true
step "zoo score (Hub id someone/tiny-scorer, HF_HUB_OFFLINE=1)"
score someone/tiny-scorer by_hub_id.jsonl 2>&1 | grep -v "it/s\]" || true
"$vpy" - <<'EOF'
import json
rows = [[json.loads(line) for line in open(name)] for name in ("by_folder.jsonl", "by_hub_id.jsonl")]
assert len(rows[0]) == 4 and all("score" in r for r in rows[0]), rows[0]
assert [r["score"] for r in rows[0]] == [r["score"] for r in rows[1]]
print("rows:", [(r["id"], round(r["score"], 4)) for r in rows[0]], "(the same by Hub id)")
EOF
step "zoo pipeline: the shipped stage graph from the installed wheel, at a tiny size (a few minutes)"
pipeline_file=$("$vpy" -c 'from zoo.config_files import resolve_config; print(resolve_config("pipeline/spatialshapes.yaml"))')
case $pipeline_file in "$work"/venv/*) ;; *) echo "pipeline file not from the wheel: $pipeline_file" >&2; exit 1 ;; esac
"$vpy" - <<'EOF'
import json
few = ["--trainer.max_steps", "2", "--trainer.val_check_interval", "1", "--trainer.limit_val_batches", "1"]
rl = few + ["--data.init_args.batch_size", "8", "--data.init_args.group_size", "4"]
small = {"run_dir": "run", "bench_count": 8, "construct_prompts": 8,
         "data": {"train": 64, "val": 16, "test": 16, "prompts_train": 16, "prompts_val": 8, "prompts_test": 8,
                  "shard_size": 32, "workers": 1},
         "overrides": {"reward_pretrain": few[:2], "clip_pretrain": few[:2], "reward": few, "clip_reward": few,
                       "construct": ["--images_per_prompt", "4", "--steps", "2", "--margin", "0.0"],
                       "sft": few + ["--model.init_args.val_images", "8"], "grpo_verifier": rl, "grpo_spatialscore": rl}}
json.dump(small, open("small.json", "w"))
EOF
"$work/venv/bin/zoo" --quiet pipeline -c "$pipeline_file" -c small.json 2>&1 | tail -3
"$vpy" - <<'EOF'
import json
report = json.load(open("run/report.json"))
assert report["rewards"] and report["benchmarks"], sorted(report)
print("run/report.json: Table 1:", sorted(report["rewards"]), "| Table 2:", sorted(report["benchmarks"]))
EOF
step "wheel check passed"
