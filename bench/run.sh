#!/usr/bin/env bash
# The service beside its own SQL: each case through HTTP (wrk) and, in the same run, the very
# statements the service sends for it through pgbench (the floor). One Markdown table of ratios.
#
#   bash bench/run.sh [N]        # N synthetic parcels (default 200000); see bench/README.md
#
# 1. database: the project-local cluster (or the server of DATABASE_URL); its own database
#    BENCH_DB (gefis_bench) with the demo, N synthetic parcels (bench/load_parcels.py) and
#    BENCH_CHANGES history changes per parcel (bench/load_history.py), both reused while N,
#    the seed and the plan are the same;
# 2. SQL: bench/capture_sql.py sends every case of BENCH_CASES (bench/cases.tsv) once through
#    the app in-process and records the statements psycopg2 sent (nothing is hard-coded);
# 3. service: uvicorn app.main:app on 127.0.0.1:BENCH_PORT, as `make run` starts it, with
#    GEFIS_DB_POOL_SIZE=BENCH_CONNECTIONS;
# 4. per case: wrk -t BENCH_THREADS -c BENCH_CONNECTIONS for BENCH_SECONDS (after
#    BENCH_WARMUP seconds of warm-up), then pgbench -n -c BENCH_CONNECTIONS -j BENCH_THREADS
#    -T BENCH_SECONDS on the captured script;
# 5. the table goes to stdout and to bench/results/<date>.md, the captured SQL with
#    EXPLAIN (ANALYZE, BUFFERS) to bench/results/<date>-sql.md.
#
# Knobs (environment):
#   BENCH_N=200000 (the argument wins) BENCH_SECONDS=20 BENCH_WARMUP=3 BENCH_CONNECTIONS=8
#   BENCH_THREADS=2 BENCH_SEED=11 BENCH_CHANGES=4
#   BENCH_PARALLEL=          max_parallel_workers_per_gather of every session of the run (set
#                            with ALTER DATABASE, so the service and pgbench both get it);
#                            empty: the server's setting, as the service's sessions have it
#   BENCH_SERIAL_CASES=count cases run once more with max_parallel_workers_per_gather = 0
#                            (skipped when the run is serial already; empty: none)
#   BENCH_PGBENCH=page       page: the statements that produce the answer; request: the
#                            whole request (BEGIN, pre-ping SELECT 1, SET TRANSACTION READ
#                            ONLY, statements, ROLLBACK); both: two pgbench columns
#   BENCH_ONLY="a b"         run only these cases
#   BENCH_CASES BENCH_DB BENCH_PORT BENCH_RESULTS_DIR BENCH_KEEP=1 (keep the work directory)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
N="${1:-${BENCH_N:-200000}}"
BENCH_SECONDS="${BENCH_SECONDS:-20}"
BENCH_WARMUP="${BENCH_WARMUP:-3}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-8}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_SEED="${BENCH_SEED:-11}"
BENCH_CHANGES="${BENCH_CHANGES:-4}"
BENCH_PARALLEL="${BENCH_PARALLEL:-}"
BENCH_SERIAL_CASES="${BENCH_SERIAL_CASES-count}"
BENCH_PGBENCH="${BENCH_PGBENCH:-page}"
BENCH_ONLY="${BENCH_ONLY:-}"
BENCH_CASES="${BENCH_CASES:-$BENCH_DIR/cases.tsv}"
BENCH_DB="${BENCH_DB:-gefis_bench}"
BENCH_RESULTS_DIR="${BENCH_RESULTS_DIR:-$BENCH_DIR/results}"

case "$N" in '' | *[!0-9]*) echo "usage: bash bench/run.sh [N]  (N: number of parcels)" >&2; exit 2 ;; esac
case "$BENCH_PGBENCH" in page | request | both) ;; *) echo "BENCH_PGBENCH: page, request or both" >&2; exit 2 ;; esac
case "$BENCH_PARALLEL" in '' | [0-9] | [0-9][0-9]) ;; *) echo "BENCH_PARALLEL: a number or empty" >&2; exit 2 ;; esac

# The project's bootstrap: .venv, the local cluster, Debian packages (installed when root).
# shellcheck source=scripts/dev/bootstrap.sh
source "$BENCH_DIR/../scripts/dev/bootstrap.sh"
say() { printf '[bench] %s\n' "$*" >&2; }

ensure_venv
ensure_tools required "wrk:wrk" "pgbench:postgresql-contrib" "psql:postgresql-client" "curl:curl"
if [ -z "${DATABASE_URL:-}" ]; then
    start_local_db  # exports DATABASE_URL of the project-local cluster
fi
PY="$VENV/bin/python"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gefis-bench.XXXXXX")"
SERVICE_PID=""
BENCH_PSQL_URL=""
stop_service() {
    if [ -n "$SERVICE_PID" ]; then
        kill "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
        SERVICE_PID=""
    fi
}
cleanup() {
    stop_service
    if [ -n "$BENCH_PSQL_URL" ]; then  # leave no run's setting behind on the database
        psql -X -q "$BENCH_PSQL_URL" -c \
            "ALTER DATABASE \"$BENCH_DB\" RESET max_parallel_workers_per_gather" >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the benchmark database ----------------------------------------------------------
say "benchmark database $BENCH_DB with $N synthetic parcels (seed $BENCH_SEED)"
load_started=$(date +%s)
BENCH_URL="$("$PY" "$BENCH_DIR/load_history.py" --n "$N" --seed "$BENCH_SEED" \
    --changes "$BENCH_CHANGES" --db "$BENCH_DB" --server-url "$DATABASE_URL")"
load_seconds=$(( $(date +%s) - load_started ))
BENCH_PSQL_URL="postgresql:${BENCH_URL#*:}"  # libpq wants no "+psycopg2"
q() { psql -X -A -t -q "$BENCH_PSQL_URL" -c "$1"; }

set_parallel() {  # set_parallel VALUE|"" (new sessions of the database get it)
    if [ -n "$1" ]; then
        q "ALTER DATABASE \"$BENCH_DB\" SET max_parallel_workers_per_gather = $1" >/dev/null
    else
        q "ALTER DATABASE \"$BENCH_DB\" RESET max_parallel_workers_per_gather" >/dev/null
    fi
}
set_parallel "$BENCH_PARALLEL"
parallel_now="$(q "SHOW max_parallel_workers_per_gather")"

# --- 2. the SQL of each case ----------------------------------------------------------------
BENCH_PORT="${BENCH_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE_URL="http://127.0.0.1:$BENCH_PORT"
say "capturing the SQL of each case (app in-process)"
GEFIS_DB_POOL_SIZE="$BENCH_CONNECTIONS" "$PY" "$BENCH_DIR/capture_sql.py" \
    --database-url "$BENCH_URL" --cases "$BENCH_CASES" --out "$WORK/sql" \
    --base-url "$BASE_URL" --explain || die "a case did not answer 2xx (see above)"

# --- 3. the service ------------------------------------------------------------------------
start_service() {
    DATABASE_URL="$BENCH_URL" GEFIS_DB_POOL_SIZE="$BENCH_CONNECTIONS" \
        "$VENV/bin/uvicorn" app.main:app --host 127.0.0.1 --port "$BENCH_PORT" \
        >>"$WORK/service.log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 120); do
        curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null && return 0
        kill -0 "$SERVICE_PID" 2>/dev/null || break
        sleep 0.5
    done
    tail -n 20 "$WORK/service.log" >&2
    die "the service did not become healthy on $BASE_URL"
}

# --- 4. measurements ----------------------------------------------------------------------
to_ms() {  # wrk's "850.12us", "12.34ms", "1.02s", "1.10m" → milliseconds
    awk '{ v = $1 + 0; u = $1; sub(/^[0-9.]+/, "", u)
           f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
           printf "%.1f", v * f }'
}
kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }'; }
percentiles() {  # percentiles LOGFILES...: "p50 / p99" of pgbench's per-transaction log (µs)
    awk '{ print $3 }' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        i50 = int(NR * 0.50 + 0.5); if (i50 < 1) i50 = 1
        i99 = int(NR * 0.99 + 0.5); if (i99 < 1) i99 = 1; if (i99 > NR) i99 = NR
        printf "%.1f / %.1f ms", v[i50] / 1000, v[i99] / 1000 }'
}
run_pgbench() {  # run_pgbench NAME SCRIPT: sets PG_TPS, PG_PCT ("p50 / p99"), PG_FAILED
    local name="$1" script="$2" out
    mkdir -p "$WORK/pglog"
    rm -f "$WORK/pglog/$name".*
    out=$(cd "$WORK/pglog" && pgbench -n -c "$BENCH_CONNECTIONS" -j "$BENCH_THREADS" \
        -T "$BENCH_SECONDS" -f "$script" -l --log-prefix="$name" "$BENCH_PSQL_URL" 2>&1) || {
        printf '%s\n' "$out" >&2; die "pgbench failed for $name"; }
    printf '%s\n' "$out" >"$WORK/pglog/$name.out"
    PG_TPS=$(awk '/^tps = / { print $3; exit }' <<<"$out")
    [ -n "$PG_TPS" ] || { printf '%s\n' "$out" >&2; die "no tps from pgbench for $name"; }
    PG_FAILED=$(awk -F'[:(]' '/^number of failed transactions/ { gsub(/ /, "", $2); print $2 }' <<<"$out")
    PG_PCT=$(percentiles "$WORK/pglog/$name".[0-9]*)
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "-" }'; }
fixed() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }

ROWS=()
NOTES=()
measure() {  # measure NAME LABEL
    local name="$1" label="$2" method path bytes npage lua out rps p50 p99 non2xx errors row
    IFS=$'\t' read -r _ method path _ bytes _ npage _ \
        < <(awk -F'\t' -v n="$name" '$1 == n' "$WORK/sql/manifest.tsv")
    lua="$WORK/sql/$name.lua"
    say "$label: wrk ${BENCH_SECONDS}s ($method $path)"
    wrk -t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" -d "${BENCH_WARMUP}s" -s "$lua" \
        "$BASE_URL$path" >/dev/null
    out=$(wrk -t "$BENCH_THREADS" -c "$BENCH_CONNECTIONS" -d "${BENCH_SECONDS}s" --timeout 30s \
        --latency -s "$lua" "$BASE_URL$path")
    printf '%s\n' "$out" >"$WORK/$name.wrk.out"
    rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms)
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
    non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    errors=$(awk '/Socket errors/ { print }' <<<"$out")
    [ -z "$non2xx" ] || NOTES+=("$label: $non2xx answers not 2xx")
    [ -z "$errors" ] || NOTES+=("$label: wrk $errors")
    if [ "$(awk '/^Requests\/sec/ { print ($2 > 0) }' <<<"$out")" = 1 ]; then
        row="| $label | $(kib "$bytes") | $npage | $(fixed "$rps") | $p50 / $p99 ms"
    else
        row="| $label | $(kib "$bytes") | $npage | 0 | no answer within ${BENCH_SECONDS} s"
        NOTES+=("$label: no request finished within ${BENCH_SECONDS} s; raise BENCH_SECONDS")
    fi
    local kind script
    for kind in page request; do
        [ "$BENCH_PGBENCH" = both ] || [ "$BENCH_PGBENCH" = "$kind" ] || continue
        script="$WORK/sql/$name.sql"
        [ "$kind" = page ] || script="$WORK/sql/$name.request.sql"
        say "$label: pgbench ${BENCH_SECONDS}s ($kind script)"
        run_pgbench "$name-$kind" "$script"
        [ "${PG_FAILED:-0}" = 0 ] || NOTES+=("$label: pgbench ($kind): $PG_FAILED failed transactions")
        row+=" | $(fixed "$PG_TPS") | $(ratio "$rps" "$PG_TPS") | $PG_PCT"
    done
    ROWS+=("$row |")
}

case_names() { awk -F'\t' '{ print $1 }' "$WORK/sql/manifest.tsv"; }
selected() { [ -z "$BENCH_ONLY" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
run_started=$(date +%s)
start_service
for name in $(case_names); do
    selected "$name" && measure "$name" "$name"
done
if [ "$parallel_now" != 0 ] && [ -n "$BENCH_SERIAL_CASES" ]; then
    stop_service
    set_parallel 0
    start_service
    for name in $BENCH_SERIAL_CASES; do
        if selected "$name" && case_names | grep -qx "$name"; then
            measure "$name" "$name (parallel off)"
        fi
    done
    stop_service
    set_parallel "$BENCH_PARALLEL"
fi
stop_service
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- 5. report ------------------------------------------------------------------------------
header="| case | answer | SQL statements | service req/s | service p50 / p99"
rule="|---|---:|---:|---:|---:"
for kind in page request; do
    [ "$BENCH_PGBENCH" = both ] || [ "$BENCH_PGBENCH" = "$kind" ] || continue
    word="pgbench"; [ "$kind" = page ] || word="pgbench (whole request)"
    header+=" | $word tps | ratio % | $word p50 / p99"
    rule+="|---:|---:|---:"
done
pg_version="$(q "SHOW server_version")"
postgis_version="$(q "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")"
stored="$(q "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")"
db_info="$("$PY" - "$stored" "$load_started" <<'EOF'
import json
import sys

d = json.loads(sys.argv[1] or "{}")
when = "built in this run" if d.get("built_at_epoch", 0) >= int(sys.argv[2]) else "reused"
rate = d.get("n", 0) / max(d.get("synthetic_s", 0) or 1e-9, 1e-9)
history = "on" if d.get("history_trigger_during_load") else "off"
print(f"{when}; built {d.get('built_at', '?')}: migrations + demo {d.get('migrate_demo_s')} s, "
      f"synthetic parcels {d.get('synthetic_s')} s ({rate:.0f}/s, history trigger {history}), "
      f"VACUUM ANALYZE {d.get('vacuum_analyze_s')} s; their history: "
      f"{d.get('history_rows', 0):,} rows in {d.get('history_s')} s (bench/load_history.py)")
EOF
)"
commit="$(git -C "$GEFIS_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git -C "$GEFIS_ROOT" status --porcelain -- app migrations 2>/dev/null)" ] \
    || commit+=" (app/ or migrations/ with uncommitted changes)"
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
mem="$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
parallel_text="$parallel_now"
[ -n "$BENCH_PARALLEL" ] || parallel_text+=" (the server's setting)"

report() {
    echo "# Benchmark: service vs. its SQL ($(date '+%Y-%m-%d %H:%M'))"
    echo
    echo "- N = $N synthetic parcels (+ $(q "SELECT count(*) FROM parcels WHERE coalesce(external_id, '') NOT LIKE 'BENCH-%'") demo parcels), seed $BENCH_SEED, database \`$BENCH_DB\`"
    echo "  ($db_info; load step of this run: ${load_seconds} s)"
    echo "- machine: $(nproc) cores ($cpu), $mem; load average before/after the run:"
    echo "  $load_before / $load_after (other processes share the cores)"
    echo "- PostgreSQL $pg_version, PostGIS $postgis_version; max_parallel_workers_per_gather = $parallel_text;"
    echo "  jit = $(q "SHOW jit"), shared_buffers = $(q "SHOW shared_buffers"), work_mem = $(q "SHOW work_mem")"
    echo "- service: one uvicorn process (\`uvicorn app.main:app\`), GEFIS_DB_POOL_SIZE=$BENCH_CONNECTIONS, commit $commit"
    echo "- wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s (after ${BENCH_WARMUP} s warm-up);"
    echo "  pgbench -n -c$BENCH_CONNECTIONS -j$BENCH_THREADS -T$BENCH_SECONDS, same database, right after"
    echo "- run time: $(( $(date +%s) - run_started )) s"
    echo
    echo "$header |"
    echo "$rule|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "ratio % = service req/s ÷ pgbench tps. \"SQL statements\": statements that produce the"
    echo "answer, captured from the app's engine (bench/capture_sql.py) and replayed by pgbench, one"
    echo "pgbench transaction per request. The service also sends, per request, a pool pre-ping"
    echo "(\`SELECT 1\`), \`SET TRANSACTION READ ONLY\` and a \`ROLLBACK\` (psycopg2 adds \`BEGIN\`);"
    echo "BENCH_PGBENCH=request replays those too. Anonymous requests: no API-key lookup."
    if [ "${#NOTES[@]}" -gt 0 ]; then
        echo
        printf -- '- %s\n' "${NOTES[@]}"
    else
        echo "All answers were 2xx; no pgbench transaction failed."
    fi
}

sql_report() {
    local name
    echo "# SQL of the benchmark cases ($(date '+%Y-%m-%d %H:%M'), N = $N)"
    echo
    echo "Captured from the app's engine for one request each; EXPLAIN (ANALYZE, BUFFERS) right"
    echo "after, on a connection with the service's session settings."
    for name in $(case_names); do
        selected "$name" || continue
        echo
        echo "## $name: $(awk -F'\t' -v n="$name" '$1 == n { print $2 " " $3 }' "$WORK/sql/manifest.tsv")"
        echo
        echo '```sql'
        cat "$WORK/sql/$name.request.sql"
        echo '```'
        if [ -f "$WORK/sql/$name.explain.txt" ]; then
            echo
            echo '```'
            cat "$WORK/sql/$name.explain.txt"
            echo '```'
        fi
    done
}

mkdir -p "$BENCH_RESULTS_DIR"
stamp="$(date +%F)"
out="$BENCH_RESULTS_DIR/$stamp.md"
i=2
while [ -e "$out" ]; do out="$BENCH_RESULTS_DIR/$stamp-$i.md"; i=$(( i + 1 )); done
report | tee "$out"
sql_report >"${out%.md}-sql.md"
say "written: $out and ${out%.md}-sql.md"
