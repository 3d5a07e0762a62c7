#!/usr/bin/env bash
# Sets up everything (see setup.sh) and runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/proofmarket demo "$@"
