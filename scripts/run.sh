#!/usr/bin/env bash
# The README's first command: set up .venv, build the index (with progress), start the main job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/python -m qa index
.venv/bin/python -m qa retrieve "Why was Putin's visit cancelled?" -k 3
