#!/usr/bin/env bash
# Vector tiles at zooms 10-14 on the 200,000-parcel database: the service (wrk, distinct
# tiles, no cache) beside its own ST_AsMVT SQL through pgbench (the floor), the naive tile
# SQL (every parcel, no aggregation) and tipg's tiles of the same table; see bench/README.md.
#
#   bash bench/tiles.sh                          # BENCH_SECONDS=15 per case
#   GEFIS_WORKERS=2 bash bench/tiles.sh          # two service processes
#   BENCH_SECONDS=3 BENCH_TILES=20 BENCH_RESULTS_DIR=/tmp/tiles-dry bash bench/tiles.sh
#
# Knobs: BENCH_SECONDS=15 BENCH_WARMUP=3 BENCH_CONNECTIONS=8 BENCH_THREADS=2 BENCH_TILES=100
#        BENCH_DB=gefis_bench BENCH_TIPG=1 (0: skip) GEFIS_WORKERS=1 BENCH_RESULTS_DIR
#        BENCH_ZOOMS="10 11 12 13 14"
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "wrk:wrk" "pgbench:postgresql-contrib" "psql:postgresql-client"
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
# shellcheck source=bench/tipg_prepare.sh
source "$BENCH_DIR/tipg_prepare.sh"
prepare_tipg
export BENCH_SIZES=200000
cd "$GEFIS_ROOT"
exec "$VENV/bin/python" -m bench.tiles "$@"
