#!/usr/bin/env bash
# Create .venv in the project root and install qa with its test extras ($QA_EXTRAS, default dev:
# no torch; add train for `qa train-reader`, `qa export-encoder` and the reference checks).
# A second run reuses the environment: it reinstalls only when pyproject.toml changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || { echo "qa: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2; exit 2; }
if [ ! -x .venv/bin/python ]; then
  echo "qa: creating .venv with $py" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.qa-installed"
extras="${QA_EXTRAS:-dev}"                 # scripts/test.sh adds train,milvus,scale (every test)
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have_sha="" have_extras=""
[ -f "$stamp" ] && read -r have_sha have_extras < "$stamp" || true
missing=0
for e in ${extras//,/ }; do
  case ",$have_extras," in *",$e,"*) ;; *) missing=1 ;; esac
done
if [ "$have_sha" != "$want" ] || [ "$missing" = 1 ]; then
  [ "$have_sha" = "$want" ] && [ -n "$have_extras" ] && extras="$have_extras,$extras"   # keep what is there
  echo "qa: installing dependencies into .venv (extras $extras; first run: a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  case ",$extras," in *",train,"*)    # torch first and pinned: an unpinned resolve pulls a multi-GB CUDA build
    .venv/bin/python -m pip install --quiet "torch==2.13.0" ;;
  esac
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  echo "$want $extras" > "$stamp"
fi
