#!/usr/bin/env bash
# Imports: `gefis import` of N synthetic parcels from a GeoPackage against the floor
# `ogr2ogr -f PostgreSQL` of the same file, in the same run, on fresh copies of a demo
# database; plus the dry run (validation only) and the import's peak memory. See
# bench/imports.py.
#
#   bash bench/imports.sh                       # 100,000 parcels, 1 run
#   BENCH_RUNS=3 BENCH_PARCELS=20000 bash bench/imports.sh
#
# The parcels come from gefis_bench (build it first: bash bench/reports.sh, or
# bench/load_history.py); it is only read. The run builds gefis_bench_import_base (migrations
# and demo) once and copies it for every run.
#
# Knobs (environment): BENCH_DB=gefis_bench  BENCH_PARCELS=100000  BENCH_RUNS=1
#                      BENCH_RESULTS_DIR
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "ogr2ogr:gdal-bin" "psql:postgresql-client"
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
if pgrep -f 'bin/pytest' >/dev/null 2>&1; then
    say "note: a pytest run is active on this machine; the figures will be pessimistic"
fi
args=(--database-url "$DATABASE_URL" --source-db "${BENCH_DB:-gefis_bench}"
      --parcels "${BENCH_PARCELS:-100000}" --runs "${BENCH_RUNS:-1}")
if [ -n "${BENCH_RESULTS_DIR:-}" ]; then args+=(--results-dir "$BENCH_RESULTS_DIR"); fi
cd "$GEFIS_ROOT"
exec "$VENV/bin/python" "$BENCH_DIR/imports.py" "${args[@]}"
