#!/usr/bin/env bash
# Minimal scheduler for the docker-compose "scheduler" service: runs the quarterly
# report on the first day of each quarter (1 Jan/Apr/Jul/Oct, container time zone,
# UTC unless TZ is set). No cron daemon needed.
#
#   GEFIS_REPORT_DIR               output directory (default: reports/ in the repo)
#   GEFIS_SCHEDULER_INTERVAL       seconds between checks (default 3600)
#   GEFIS_SCHEDULER_RUN_ON_START   1 = also run once immediately at start
#   GEFIS_REPORT_CMD               command to run (default: python scripts/quarterly_report.py)
#
# The report command gets "--output-dir DIR"; it decides which quarter to report.
# A successful run writes <report dir>/.done-YYYY-Qn, so each quarter runs once;
# a failed run is retried at the next check while it is still the first day.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPORT_DIR="${GEFIS_REPORT_DIR:-$ROOT/reports}"
INTERVAL="${GEFIS_SCHEDULER_INTERVAL:-3600}"
REPORT_CMD="${GEFIS_REPORT_CMD:-python $ROOT/scripts/quarterly_report.py}"

log() { printf '[gefis-scheduler] %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

quarter_of() { # $1 = month (01..12) -> 1..4
    echo $(((10#$1 - 1) / 3 + 1))
}

run_report() { # $1 = quarter label, e.g. 2026-Q1
    local label="$1" rc=0
    log "running quarterly report ($label): $REPORT_CMD --output-dir $REPORT_DIR"
    # shellcheck disable=SC2086 # REPORT_CMD is a command line
    $REPORT_CMD --output-dir "$REPORT_DIR" || rc=$?
    if [ "$rc" -eq 0 ]; then
        touch "$REPORT_DIR/.done-$label"
        log "report $label done"
    else
        log "report $label FAILED (exit $rc)"
    fi
    return 0
}

main() {
    trap 'log "stopping"; exit 0' TERM INT
    mkdir -p "$REPORT_DIR"
    log "started; checking every ${INTERVAL}s; reports go to $REPORT_DIR"
    local year month day label
    if [ "${GEFIS_SCHEDULER_RUN_ON_START:-0}" = 1 ]; then
        read -r year month <<<"$(date +'%Y %m')"
        run_report "$year-Q$(quarter_of "$month")"
    fi
    while true; do
        read -r year month day <<<"$(date +'%Y %m %d')"
        label="$year-Q$(quarter_of "$month")"
        case "$month" in
        01 | 04 | 07 | 10)
            if [ "$day" = 01 ] && [ ! -e "$REPORT_DIR/.done-$label" ]; then
                run_report "$label"
            fi
            ;;
        esac
        sleep "$INTERVAL" &
        wait $!
    done
}

main "$@"
