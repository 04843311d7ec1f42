#!/usr/bin/env bash
# Exports: the service's GeoPackage of every parcel (HTTP, staff), the CLI's, and the floor
# `ogr2ogr -f GPKG … PG:… -sql <the export's SELECT>` in the same run, median of BENCH_RUNS;
# then where the service's time goes. See bench/exports.py.
#
#   bash bench/exports.sh                      # 3 runs on gefis_bench (200,000 parcels)
#   BENCH_RUNS=5 BENCH_PLAIN=1 bash bench/exports.sh   # more runs; also ogr2ogr of the table
#
# The database is only read (the run adds an analyst API key and deletes it at the end; the
# key's lookups stamp its last use). It is not built here: `bash bench/reports.sh` (or
# bench/load_history.py) builds gefis_bench with 200,000 synthetic parcels and their history.
#
# Knobs (environment): BENCH_DB=gefis_bench  BENCH_RUNS=3  BENCH_PLAIN=0  BENCH_RESULTS_DIR
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BENCH_DB="${BENCH_DB:-gefis_bench}"
BENCH_RUNS="${BENCH_RUNS:-3}"

# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "ogr2ogr:gdal-bin" "psql:postgresql-client"
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
PY="$VENV/bin/python"
BENCH_URL="$("$PY" -c 'import sys
from sqlalchemy.engine import make_url
print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))' \
    "$DATABASE_URL" "$BENCH_DB")"

if ! "$PY" -c 'import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as c:
    c.execute(text("SELECT 1 FROM parcels LIMIT 1"))' "$BENCH_URL" 2>/dev/null; then
    say "no database $BENCH_DB with parcels: build it first (bash bench/reports.sh)"
    exit 2
fi
if pgrep -f 'bin/pytest' >/dev/null 2>&1; then
    say "note: a pytest run is active on this machine; the figures will be pessimistic"
fi

args=(--database-url "$BENCH_URL" --runs "$BENCH_RUNS")
if [ "${BENCH_PLAIN:-0}" = 1 ]; then args+=(--plain); fi
if [ -n "${BENCH_RESULTS_DIR:-}" ]; then args+=(--results-dir "$BENCH_RESULTS_DIR"); fi
cd "$GEFIS_ROOT"
exec "$PY" "$BENCH_DIR/exports.py" "${args[@]}"
