#!/usr/bin/env bash
# First render of the web map (/karte): the region with the demo data, in Debian's headless
# Chromium (software WebGL), cold and warm browser cache; see bench/map_render.py.
#
#   bash bench/map_render.sh                 # 7 runs each
#   bash bench/map_render.sh --runs 3
#
# Knobs (environment): BENCH_MAP_DB=gefis_bench_map (migrated, demo data loaded when empty)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "chromium:chromium"
ensure_web_dependencies required
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
if pgrep -f 'bin/pytest' >/dev/null 2>&1; then
    say "note: a pytest run is active on this machine; the figures will be pessimistic"
fi
cd "$GEFIS_ROOT"
exec "$VENV/bin/python" -m bench.map_render "$@"
