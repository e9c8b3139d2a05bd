#!/usr/bin/env bash
# The README's first command: set up .venv, build the index (with progress), start the chat.
# Extra arguments go to app.py, e.g. `bash scripts/run.sh --port 8080`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/python -m qa index
exec .venv/bin/python app.py "$@"
