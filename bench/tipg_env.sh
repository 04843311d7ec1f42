#!/usr/bin/env bash
# tipg (developmentseed's OGC API - Features server on PostGIS) in its own virtualenv,
# bench/.tipg-venv, for bench/ogc.sh to compare against. Nothing of it enters the project's
# .venv. Idempotent: an existing virtualenv with tipg and uvicorn importable is kept.
#
#   bash bench/tipg_env.sh            # prints the virtualenv's path on stdout
#   TIPG_VERSION=1.0.1 bash bench/tipg_env.sh   # pin a version (default: the newest on PyPI)
#   TIPG_VENV=/some/dir bash bench/tipg_env.sh  # elsewhere
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
TIPG_VENV="${TIPG_VENV:-$BENCH_DIR/.tipg-venv}"
TIPG_VERSION="${TIPG_VERSION:-}"
PYTHON="${TIPG_PYTHON:-python3}"

say() { printf '[bench] %s\n' "$*" >&2; }

ready() {
    [ -x "$TIPG_VENV/bin/python" ] \
        && "$TIPG_VENV/bin/python" -c 'import tipg.main, uvicorn' >/dev/null 2>&1
}

if ! ready; then
    command -v "$PYTHON" >/dev/null 2>&1 || { say "no $PYTHON for tipg's virtualenv"; exit 1; }
    say "creating $TIPG_VENV (pip install tipg uvicorn)"
    "$PYTHON" -m venv "$TIPG_VENV"
    spec="tipg"
    [ -z "$TIPG_VERSION" ] || spec="tipg==$TIPG_VERSION"
    "$TIPG_VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$TIPG_VENV/bin/python" -m pip install -q "$spec" "uvicorn[standard]" >&2
    ready || { say "tipg is not importable in $TIPG_VENV"; exit 1; }
fi
say "tipg $("$TIPG_VENV/bin/python" -c 'from importlib.metadata import version; print(version("tipg"))') in $TIPG_VENV"
printf '%s\n' "$TIPG_VENV"
