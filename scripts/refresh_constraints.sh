#!/usr/bin/env bash
# Rewrite constraints.txt from a venv that passed the test suite: on purpose only (a new dependency, a wanted
# upgrade), never as a side effect. Usage: scripts/refresh_constraints.sh [VENV]   (default .venv)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$repo/.venv}
python=$("$venv/bin/python" -c 'import platform, sys; print(f"Python {sys.version.split()[0]} on {platform.system()} {platform.machine()}")')
{
  cat <<HEAD
# What the tests passed with ($python), for CI and the README's install commands:
#   pip install torch==2.13.0 -c constraints.txt -e '.[test]'
# Refresh it on purpose, never as a side effect: install without -c in a fresh venv (the newest versions
# pyproject.toml allows), run the full test suite, then run scripts/refresh_constraints.sh [VENV] and commit the diff
# with the reason. Local version labels are dropped (torch==2.13.0 matches the CPU and the CUDA builds alike).
HEAD
  "$venv/bin/python" -m pip freeze --all --exclude-editable --disable-pip-version-check 2>/dev/null \
    | grep -v -E '^(pip|zoo)==' | sed -E 's/^([A-Za-z0-9_.-]+==[^+ ]+)\+[^ ]*$/\1/'
} > "$repo/constraints.txt"
echo "wrote $repo/constraints.txt ($(grep -vc '^#' "$repo/constraints.txt") packages)"
