#!/usr/bin/env bash
# How many simultaneous clients the service serves, at which latency (wrk, Debian `wrk`).
#
#   make run                               # in another shell (or any running service)
#   bash scripts/bench/concurrency.sh      # BASE_URL, BENCH_PATH, BENCH_SECONDS, BENCH_CLIENTS
#
# For each number of clients, wrk keeps that many connections busy for BENCH_SECONDS and
# reports throughput, latency percentiles and the answers that were not 2xx (the admission
# gate's 503s). Meanwhile /health is timed once a second. Prints a Markdown table.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
BENCH_PATH="${BENCH_PATH:-/api/v1/parcels?limit=100}"
BENCH_SECONDS="${BENCH_SECONDS:-15}"
BENCH_CLIENTS="${BENCH_CLIENTS:-1 10 50 100 200 400}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
curl -fsS -o /dev/null "$BASE_URL/health" || {
    echo "no healthy service at $BASE_URL: start one with 'make run'" >&2; exit 2; }

health_probe() {  # worst /health latency (s) while the load runs
    local worst=0 t
    for _ in $(seq "$BENCH_SECONDS"); do
        t=$(curl -s -o /dev/null -m 10 -w '%{time_total}' "$BASE_URL/health" || echo 10)
        worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
        sleep 1
    done
    echo "$worst"
}

echo "| clients | requests/s | p50 | p90 | p99 | max | not 2xx | socket errors | worst /health |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for clients in $BENCH_CLIENTS; do
    health_file=$(mktemp)
    health_probe >"$health_file" &
    probe=$!
    threads=$(( clients < 2 ? clients : 2 ))
    out=$(wrk -t"$threads" -c"$clients" -d"${BENCH_SECONDS}s" --timeout 30s --latency "$BASE_URL$BENCH_PATH")
    wait "$probe"
    rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
    pct() { awk -v p="$1" '$1 == p { print $2 }' <<<"$out"; }
    max=$(awk '/^ +Latency/ { print $4 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    errors=$(awk -F'[ ,]+' '/Socket errors/ { print $4 "/" $6 "/" $8 "/" $10 }' <<<"$out")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %ss |\n' "$clients" "$rps" "$(pct 50%)" \
        "$(pct 90%)" "$(pct 99%)" "$max" "${non2xx:-0}" "${errors:-0}" "$(cat "$health_file")"
    rm -f "$health_file"
done
