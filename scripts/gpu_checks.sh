#!/bin/bash
# One command for a session with a lent GPU (H100/H200): the scale benchmark at real sizes (Flux.1-dev 11.9 B,
# Qwen2.5-VL-7B, random weights, bf16, fp32 LoRA, activation checkpointing), bare model against the project's
# steps in one process; the table goes to stdout, JSON and the log to $OUT (or benchmarks/results/).
#   here first:  bash scripts/fetch_gpu_wheels.sh
#   then:        run(command="bash scripts/gpu_checks.sh", carry=[".whl"], timeout_s=540)
# Takes about 4-6 minutes on one H100/H200 (model builds, 1 warm-up + 3 timed steps of each case, both ways).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
DEST=${OUT:-benchmarks/results}
mkdir -p "$DEST"
nvidia-smi -L || true
python3 -c "import torch, transformers, diffusers, lightning, peft; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else '-'); print('transformers', transformers.__version__, 'diffusers', diffusers.__version__, 'lightning', lightning.__version__, 'peft', peft.__version__)"
NAME=$(python3 -c "import torch; print(torch.cuda.get_device_name().split()[1].lower() if torch.cuda.is_available() else 'cpu')")
export PYTHONWARNINGS=ignore  # keep the reply's output tail for the table
python3 benchmarks/scale.py --size "${SIZE:-real}" --warmup "${WARMUP:-1}" --iters "${ITERS:-3}" \
    --out "$DEST/scale_${NAME}.json" 2>&1 | tee "$DEST/scale_${NAME}.log"
