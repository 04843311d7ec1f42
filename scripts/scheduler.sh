#!/usr/bin/env bash
# Scheduler of the docker-compose "scheduler" service: keeps the quarterly monitoring report
# of the last completed quarter written. No cron daemon needed.
#
# Every GEFIS_SCHEDULER_INTERVAL seconds it works out the last completed quarter (container
# time zone, UTC unless TZ is set) and runs the report if <report dir>/<YYYY>-Q<N>/report.json
# is missing. So the report appears within an hour after a quarter ends, a run missed while
# the service was down is made up at the next check, and a failed run is retried.
#
#   GEFIS_REPORT_DIR               output directory (default: reports/ in the repo)
#   GEFIS_SCHEDULER_INTERVAL       seconds between checks (default 3600)
#   GEFIS_REPORT_CMD               command to run (default: python scripts/quarterly_report.py)
#   GEFIS_SCHEDULER_ONCE           1 = one check, then exit (for a test or a manual run)
#
# The report command gets "--quarter YYYYQN --output-dir DIR". Outside Docker, use the
# crontab line or the systemd timer in scripts/ instead (see README, "Quarterly report").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPORT_DIR="${GEFIS_REPORT_DIR:-$ROOT/reports}"
INTERVAL="${GEFIS_SCHEDULER_INTERVAL:-3600}"
REPORT_CMD="${GEFIS_REPORT_CMD:-python $ROOT/scripts/quarterly_report.py}"

log() { printf '[gefis-scheduler] %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

last_completed_quarter() { # -> YYYY QN, e.g. "2026 3" in November 2026
    local year month q
    read -r year month <<<"$(date +'%Y %m')"
    q=$(((10#$month - 1) / 3 + 1))
    if [ "$q" -eq 1 ]; then echo "$((year - 1)) 4"; else echo "$year $((q - 1))"; fi
}

check() {
    local year q
    read -r year q <<<"$(last_completed_quarter)"
    if [ -e "$REPORT_DIR/$year-Q$q/report.json" ]; then
        return 0
    fi
    log "running the quarterly report ${year}Q$q: $REPORT_CMD"
    # shellcheck disable=SC2086 # REPORT_CMD is a command line
    if $REPORT_CMD --quarter "${year}Q$q" --output-dir "$REPORT_DIR"; then
        log "report ${year}Q$q written"
    else
        log "report ${year}Q$q FAILED (exit $?); retrying in ${INTERVAL}s"
    fi
}

main() {
    trap 'log "stopping"; exit 0' TERM INT
    mkdir -p "$REPORT_DIR"
    log "started; checking every ${INTERVAL}s; reports go to $REPORT_DIR"
    while true; do
        check
        [ "${GEFIS_SCHEDULER_ONCE:-0}" = 1 ] && return 0
        sleep "$INTERVAL" &
        wait $!
    done
}

main "$@"
