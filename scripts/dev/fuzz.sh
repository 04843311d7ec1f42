#!/usr/bin/env bash
# `make fuzz`: Schemathesis (every check) against a throwaway service, anonymous and as admin.
#
# Steps: venv + the `fuzz` extra, database server (as for `make test`), a scratch database
# gefis_fuzz_<random> with migrations, demo data and an admin key made for this run, uvicorn
# on a free port, `schemathesis run --checks all` without a key and with the admin key.
# Afterwards the service is stopped and the database dropped, whatever happened. Exits
# non-zero when either run reports a failure or an error.
#
# FUZZ_MAX_EXAMPLES   examples per operation and phase (default 50)
# FUZZ_SEED           fixed seed, to repeat a run
# Settings and the findings accepted on purpose, each with its reason: scripts/dev/fuzz.toml.
set -euo pipefail

# shellcheck source=scripts/dev/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$GEFIS_ROOT"

MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
CONFIG="$GEFIS_ROOT/scripts/dev/fuzz.toml"
SCRATCH_URL=""
SERVICE_PID=""

ensure_fuzz_extra() {
    "$VENV/bin/python" -c "import schemathesis" 2>/dev/null && return 0
    log "installing the fuzz extra into .venv (pip install -e '.[dev,fuzz]')"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
        -e '.[dev,fuzz]' >&2 || die "pip install of the fuzz extra failed"
}

# Runs Python with the project's scratch-database helpers (the ones the tests use).
scratch_db() { # scratch_db create|drop [URL]
    "$VENV/bin/python" - "$@" <<'PY'
import sys

from tests.conftest import create_scratch_database, drop_scratch_database

if sys.argv[1] == "create":
    print(create_scratch_database("gefis_fuzz"))
else:
    drop_scratch_database(sys.argv[2])
PY
}

cleanup() {
    local status=$?
    if [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    if [ -n "$SCRATCH_URL" ]; then
        scratch_db drop "$SCRATCH_URL" || warn "could not drop the scratch database"
    fi
    exit "$status"
}

prepare_database() {
    SCRATCH_URL="$(scratch_db create)" || die "could not create a scratch database"
    log "scratch database: ${SCRATCH_URL##*/}"
    DATABASE_URL="$SCRATCH_URL" "$VENV/bin/python" -m app.cli migrate >&2
    DATABASE_URL="$SCRATCH_URL" "$VENV/bin/python" -m app.cli load-demo >&2
}

# Prints the plain key; the CLI's own messages start with "[gefis]".
admin_key() {
    DATABASE_URL="$SCRATCH_URL" "$VENV/bin/python" -m app.cli api-key create \
        --name "make fuzz" --role admin | grep -v '^\[gefis\]' | tail -n 1
}

start_service() { # start_service PORT
    DATABASE_URL="$SCRATCH_URL" "$VENV/bin/uvicorn" app.main:app --host 127.0.0.1 \
        --port "$1" --log-level warning >&2 &
    SERVICE_PID=$!
    local _
    for _ in $(seq 1 150); do
        # uvicorn listens only once the app has started
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$SERVICE_PID" 2>/dev/null || die "the service exited during start-up"
        sleep 0.2
    done
    die "the service did not listen within 30 s"
}

# Workers: 1. Several workers share one interpreter, and Hypothesis' lambda descriptions then
# trip CPython 3.11's "AST constructor recursion depth mismatch" (reported as errors).
fuzz() { # fuzz LABEL BASE_URL [schemathesis options...]
    local label="$1" base="$2"
    shift 2
    local -a seed=()
    [ -z "${FUZZ_SEED:-}" ] || seed=(--seed "$FUZZ_SEED")
    log "schemathesis, $label: --checks all, $MAX_EXAMPLES examples per operation"
    "$VENV/bin/schemathesis" --config-file "$CONFIG" run "$base/openapi.json" \
        --checks all --max-examples "$MAX_EXAMPLES" --workers 1 --no-color \
        --generation-database none "${seed[@]}" "$@"
}

main() {
    ensure_venv
    ensure_fuzz_extra
    select_database test
    trap cleanup EXIT
    prepare_database
    local key port failed=0
    key="$(admin_key)"
    [ -n "$key" ] || die "could not create the admin key"
    port="$("$VENV/bin/python" -c "from tests.server import free_port; print(free_port())")"
    start_service "$port"
    local base="http://127.0.0.1:$port"
    fuzz anonymous "$base" || failed=1
    fuzz admin "$base" -H "Authorization: Bearer $key" || failed=1
    if [ "$failed" != 0 ]; then
        warn "schemathesis reported failures (see above)"
        return 1
    fi
    log "schemathesis found nothing, anonymous and as admin"
}

main "$@"
