#!/usr/bin/env bash
# Creates .venv and installs proofmarket with its test tools. Idempotent: a stamp of
# pyproject.toml skips the pip step when nothing changed. Everything comes from PyPI
# (including the ziglang clang used for guests); anvil is fetched from npm on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=".venv/.proofmarket-stamp"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    # The PyTorch backend is optional; its CPU build is installed when one is available
    # so that the backend's tests run. Never pull the multi-GB CUDA build implicitly.
    .venv/bin/python -m pip install -q "torch==2.13.0+cpu" 2>/dev/null \
        || echo "note: PyTorch not installed; its backend tests will be skipped" >&2
    echo "$want" > "$stamp"
fi
.venv/bin/proofmarket tools install
# Compile the numba kernels now (cached on disk) so the first run is not the slow one.
.venv/bin/proofmarket tools precompile
