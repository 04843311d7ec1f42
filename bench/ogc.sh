#!/usr/bin/env bash
# OGC API - Features items: the service beside its own SQL (pgbench, the floor) and tipg, at
# 10,000, 200,000 and 1,000,000 synthetic parcels. Tables, target checks, the 1M ÷ 10k page
# rates and the service's memory over a 60 s run; see bench/README.md, "OGC items".
#
#   bash bench/ogc.sh                                  # all three sizes
#   BENCH_SIZES="200000" bash bench/ogc.sh             # a subset
#   BENCH_SECONDS=3 BENCH_MEMORY_SECONDS=5 BENCH_ENDPOINT=legacy BENCH_SIZES=10000 \
#       BENCH_RESULTS_DIR=/tmp/ogc-dry bash bench/ogc.sh   # a dry run on /api/v1/parcels
#
# 1. tools: the project's bootstrap (.venv, the local cluster, wrk, pgbench, psql, curl) and
#    tipg's own virtualenv (bench/tipg_env.sh; if that fails, the tipg columns say why);
# 2. bench/ogc.py per size: its database (bench/load_history.py for 200,000 = BENCH_DB,
#    bench/load_parcels.py for gefis_bench_10k, gefis_bench_1m), the service, the URLs (page
#    50: 49 next links walked), the captured SQL, wrk + pgbench per case, the memory run, tipg;
# 3. the report to stdout and bench/results/<date>-ogc.md (SQL and plans: …-ogc-sql.md).
#
# Knobs (environment):
#   BENCH_SIZES="10000 200000 1000000"  BENCH_SECONDS=15 (wrk and pgbench per case)
#   BENCH_WARMUP=3  BENCH_CONNECTIONS=8  BENCH_THREADS=2
#   BENCH_MEMORY_SECONDS=60 (0: skip)  BENCH_MEMORY_WARMUP=10
#   BENCH_ONLY="items_100 page_50"      BENCH_ENDPOINT=ogc|legacy   BENCH_TIPG=1 (0: skip)
#   BENCH_CASES (bench/ogc_cases.tsv)   BENCH_DB (gefis_bench: the 200,000 one)
#   BENCH_SEED=11  BENCH_CHANGES=4      BENCH_RESULTS_DIR  BENCH_KEEP=1 (keep the work folder)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

case "${BENCH_ENDPOINT:-ogc}" in ogc | legacy) ;; *) echo "BENCH_ENDPOINT: ogc or legacy" >&2; exit 2 ;; esac
for n in ${BENCH_SIZES:-}; do
    case "$n" in '' | *[!0-9]*) echo "BENCH_SIZES: numbers of parcels, not '$n'" >&2; exit 2 ;; esac
done

# The project's bootstrap: .venv, the local cluster, Debian packages (installed when root).
# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "wrk:wrk" "pgbench:postgresql-contrib" "psql:postgresql-client" "curl:curl"
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi

# shellcheck source=bench/tipg_prepare.sh
source "$BENCH_DIR/tipg_prepare.sh"
prepare_tipg

cd "$GEFIS_ROOT"
exec "$VENV/bin/python" "$BENCH_DIR/ogc.py" "$@"
