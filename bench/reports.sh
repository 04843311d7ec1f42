#!/usr/bin/env bash
# The reports' speed on the benchmark database: the quarterly monitoring report end to end
# (a cold and a steady-state quarter) and the portfolio report of the region through HTTP.
#
#   bash bench/reports.sh [ARGS]     # ARGS go to bench/reports.py (--runs, --quarters, --scratch …)
#
# 1. database: the project-local cluster (or the server of DATABASE_URL); BENCH_DB with the
#    demo, N synthetic parcels (bench/load_parcels.py) and their history
#    (bench/load_history.py), each reused while N, the seed and the plan are unchanged, and
#    migrated to head;
# 2. bench/reports.py: scripts/quarterly_report.py for two unstored quarters (they stay
#    stored: snapshots are immutable; --scratch uses a throwaway copy of the database
#    instead), then the service (uvicorn app.main:app on a free port of 127.0.0.1, as
#    `make run` starts it) and sequential portfolio requests; the table goes to stdout and
#    bench/results/<date>-reports.md.
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
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
PY="$VENV/bin/python"

if pgrep -f 'bin/pytest' >/dev/null 2>&1; then
    say "note: a pytest run is active on this machine; the figures will be pessimistic"
fi

# --- 1. the benchmark database (built when missing; migrated to head) -----------------------
BENCH_URL="$("$PY" "$BENCH_DIR/load_history.py" --n "$BENCH_N" --seed "$BENCH_SEED" \
    --changes "$BENCH_CHANGES" --db "$BENCH_DB" --server-url "$DATABASE_URL")"

# --- 2. measurements (bench/reports.py starts the service itself, after the quarterly runs) --
cd "$GEFIS_ROOT"
exec "$PY" "$BENCH_DIR/reports.py" --database-url "$BENCH_URL" "$@"
