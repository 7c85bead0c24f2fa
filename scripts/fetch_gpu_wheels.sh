#!/bin/bash
# Here (with PyPI): the wheels the lent GPU machine lacks (its image has torch, transformers, lightning, peft,
# tensorboard, ...; not these), for Python 3.12, into .whl/ (git-ignored). Then run scripts/gpu_checks.sh there
# with `.whl` carried.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
PY=${PY:-.venv/bin/python}
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d .whl \
    diffusers==0.42.1 webdataset==1.0.2 braceexpand==0.1.7 omegaconf==2.4.0 jsonargparse==4.53.0 \
    docstring_parser==0.18.0 typeshed_client==2.15.0 importlib_metadata==10.2.0
ls .whl
