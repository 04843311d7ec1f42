#!/usr/bin/env bash
# Server time of GET /api/v1/balance and GET /api/v1/parcels/summary, today and as of a past
# quarter, on the benchmark database with its history (see bench/README.md).
#
#   bash bench/balance.sh [ARGS]     # ARGS go to bench/balance.py (--runs, --at, --only …)
#
# 1. database: the project-local cluster (or the server of DATABASE_URL); BENCH_DB with the
#    demo, N synthetic parcels (bench/load_parcels.py) and their history
#    (bench/load_history.py), each reused while N, the seed and the plan are unchanged;
# 2. bench/balance.py: the app in-process, each case warmed up and then timed one request
#    at a time (median, p95), plus EXPLAIN (ANALYZE, BUFFERS) of its statements.
#
# Knobs (environment): BENCH_N=200000 BENCH_SEED=11 BENCH_CHANGES=4 BENCH_DB=gefis_bench
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BENCH_N="${BENCH_N:-200000}"
BENCH_SEED="${BENCH_SEED:-11}"
BENCH_CHANGES="${BENCH_CHANGES:-4}"
BENCH_DB="${BENCH_DB:-gefis_bench}"

# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
ensure_venv
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
BENCH_URL="$("$VENV/bin/python" "$BENCH_DIR/load_history.py" --n "$BENCH_N" --seed "$BENCH_SEED" \
    --changes "$BENCH_CHANGES" --db "$BENCH_DB" --server-url "$DATABASE_URL")"
exec "$VENV/bin/python" "$BENCH_DIR/balance.py" --database-url "$BENCH_URL" "$@"
