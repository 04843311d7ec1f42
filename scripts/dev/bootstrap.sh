#!/usr/bin/env bash
# Bootstrap for `make run` / `make test` (and friends). Idempotent: re-running is
# safe, keeps the data and reuses an already running local cluster.
#
#   bootstrap.sh run            venv + packages + database + migrate + demo data + serve
#   bootstrap.sh test [ARGS]    venv + packages + database, then pytest ARGS
#   bootstrap.sh db             packages + local cluster; prints its DATABASE_URL on stdout
#   bootstrap.sh lint           venv, then ruff
#
# Database selection: if DATABASE_URL (run) or DATABASE_URL/TEST_DATABASE_URL
# (test) are set, they are used as they are and no local cluster is started.
# Otherwise the project-local cluster (scripts/dev/pg_local.sh) is started and
# DATABASE_URL is exported for the app and the tests.
set -euo pipefail

# shellcheck source=scripts/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$GEFIS_ROOT"

VENV="$GEFIS_ROOT/.venv"
VENV_STAMP="$VENV/.gefis-install-stamp"
# Extras installed into .venv: dev (pytest, ruff, ...) and demo (rasterio for the demo-data
# generator in tools/demo_data, which the tests run). The service itself needs neither.
PIP_EXTRAS="dev,demo"

# --- system packages ------------------------------------------------------------
# Extra tools, as "command:debian-package". Extend these lists when a new tool is
# needed. chromium: headless Chromium prints PDFs (reports, site profiles) and drives the
# browser tests; the service serves without it (PDF requests then get a 503).
TOOLS_REQUIRED_FOR_TEST=("ogr2ogr:gdal-bin" "chromium:chromium")
TOOLS_OPTIONAL_FOR_RUN=("ogr2ogr:gdal-bin" "chromium:chromium")

APT_UPDATED=0

can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

apt_install() { # apt_install PKG...
    [ "$#" -gt 0 ] || return 0
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >&2 \
        || die "apt-get install $* failed"
}

# ensure_tools required|optional "cmd:pkg"...
# Installs the packages of missing commands when root; otherwise fails (required)
# or warns (optional) with the exact packages to install.
ensure_tools() {
    local mode="$1" entry cmd pkg
    shift
    local -a missing=()
    for entry in "$@"; do
        cmd="${entry%%:*}"
        pkg="${entry#*:}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    if can_apt; then
        apt_install "${missing[@]}"
        return 0
    fi
    if [ "$mode" = required ]; then
        die "missing system packages; install them as root: apt-get update && apt-get install -y ${missing[*]}"
    fi
    warn "optional system packages missing (not needed to serve; chromium is needed for PDF output): apt-get install -y ${missing[*]}"
}

# PostgreSQL server + the matching PostGIS package (Debian: postgresql, postgresql-NN-postgis-3).
ensure_postgis_server() {
    local bin nn
    if ! bin="$(pg_bindir)"; then
        if can_apt; then
            log "PostgreSQL server not found; installing Debian's postgresql"
            apt_install postgresql
            bin="$(pg_bindir)" || die "PostgreSQL server still not found after installing postgresql"
        else
            nn="$(apt-cache depends postgresql 2>/dev/null | grep -oE 'postgresql-[0-9]+' | head -n1 || true)"
            nn="${nn#postgresql-}"
            die "PostgreSQL server with PostGIS is missing. Install it as root:
    apt-get update && apt-get install -y postgresql postgresql-${nn:-<major>}-postgis-3
  or point DATABASE_URL to an existing PostGIS server (see README)."
        fi
    fi
    nn="$(pg_major "$bin")"
    if ! pg_has_postgis "$bin"; then
        if can_apt; then
            log "PostGIS missing for PostgreSQL $nn; installing postgresql-$nn-postgis-3"
            apt_install "postgresql-$nn-postgis-3"
            pg_has_postgis "$bin" || die "PostGIS still missing after installing postgresql-$nn-postgis-3"
        else
            die "PostGIS is missing for PostgreSQL $nn ($bin). Install it as root:
    apt-get update && apt-get install -y postgresql-$nn-postgis-3
  or point DATABASE_URL to an existing PostGIS server (see README)."
        fi
    fi
    log "PostgreSQL $nn with PostGIS: ok ($bin)"
}

# --- Python environment --------------------------------------------------------
python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; }

# ensure_system_python PY: PY is not on PATH. For the default python3, install Debian's
# python3 + python3-venv when root with apt; otherwise stop with the command to run.
ensure_system_python() {
    local py="$1"
    if [ "$py" = python3 ]; then
        if can_apt; then
            log "python3 not found; installing Debian's python3 and python3-venv"
            apt_install python3 python3-venv
            command -v python3 >/dev/null 2>&1 || die "python3 still not found after installing python3"
            return 0
        fi
        if command -v apt-get >/dev/null 2>&1; then
            die "python3 not found. Install it as root:
    apt-get update && apt-get install -y python3 python3-venv
  (Python >= 3.11 is required; or set GEFIS_PYTHON to another interpreter)"
        fi
    fi
    die "$py not found; install Python >= 3.11 (or set GEFIS_PYTHON)"
}

ensure_venv() {
    local py="${GEFIS_PYTHON:-python3}" want have=""
    if ! python_ok "$VENV/bin/python"; then
        command -v "$py" >/dev/null 2>&1 || ensure_system_python "$py"
        python_ok "$py" || die "$py is $("$py" -V 2>&1); Python >= 3.11 is required (set GEFIS_PYTHON)"
        log "creating virtualenv .venv ($("$py" -V 2>&1))"
        rm -rf "$VENV"
        if ! "$py" -m venv "$VENV" >&2; then
            rm -rf "$VENV"
            # Debian's python3 ships venv/ensurepip separately
            can_apt || die "'$py -m venv' failed; install python3-venv (Debian) as root"
            apt_install python3-venv
            "$py" -m venv "$VENV" >&2 || die "'$py -m venv' failed"
        fi
    fi
    want="$(cat pyproject.toml <("$VENV/bin/python" -V 2>&1) <(echo "$PIP_EXTRAS") | sha256sum | cut -d' ' -f1)"
    [ -f "$VENV_STAMP" ] && have="$(cat "$VENV_STAMP")"
    if [ "$want" != "$have" ]; then
        log "installing the project into .venv (pip install -e '.[$PIP_EXTRAS]'; pyproject.toml changed or first run)"
        local -a quiet=()
        [ -t 1 ] || quiet=(--progress-bar off)
        "$VENV/bin/python" -m pip install --disable-pip-version-check "${quiet[@]}" -e ".[$PIP_EXTRAS]" >&2 \
            || die "pip install failed (see output above)"
        printf '%s\n' "$want" >"$VENV_STAMP"
    else
        log ".venv is up to date"
    fi
}

# --- web map (/karte): MapLibre GL JS and Chart.js from npm ----------------------------
WEB_DIR="$GEFIS_ROOT/web"
WEB_STAMP="$WEB_DIR/node_modules/.gefis-install-stamp"

# ensure_web_dependencies required|optional: `npm ci` in web/ (the versions pinned by
# web/package-lock.json) when the lock file changed or node_modules is missing. No build
# step: the service serves the packages' distribution files (README, "Web map"). Node.js
# and npm come from Debian's nodejs/npm when missing and run as root.
ensure_web_dependencies() {
    local mode="$1" want have=""
    want="$(cat "$WEB_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
    [ -f "$WEB_STAMP" ] && have="$(cat "$WEB_STAMP")"
    if [ "$want" = "$have" ]; then
        log "web map dependencies are up to date"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        if can_apt; then
            log "npm not found; installing Debian's nodejs and npm (for the web map's packages)"
            apt_install nodejs npm
        elif [ "$mode" = required ]; then
            die "npm is missing; install it as root: apt-get update && apt-get install -y nodejs npm"
        else
            warn "npm is missing, so the web map (/karte) cannot be served: apt-get install -y nodejs npm"
            return 0
        fi
    fi
    log "installing the web map's packages (npm ci in web/)"
    (cd "$WEB_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) \
        || die "npm ci in web/ failed (see output above)"
    printf '%s\n' "$want" >"$WEB_STAMP"
}

# --- database ----------------------------------------------------------------------
start_local_db() {
    ensure_postgis_server
    bash "$GEFIS_ROOT/scripts/dev/pg_local.sh" start
    DATABASE_URL="$(bash "$GEFIS_ROOT/scripts/dev/pg_local.sh" url)"
    export DATABASE_URL
}

# $1 = run|test. Exports DATABASE_URL (unless only TEST_DATABASE_URL is given).
select_database() {
    if [ -n "${DATABASE_URL:-}" ]; then
        log "using DATABASE_URL from the environment; the local cluster is not started"
        return 0
    fi
    if [ "$1" = test ] && [ -n "${TEST_DATABASE_URL:-}" ]; then
        log "using TEST_DATABASE_URL from the environment; the local cluster is not started"
        return 0
    fi
    start_local_db
    log "DATABASE_URL=$DATABASE_URL"
}

# --- commands ------------------------------------------------------------------------
cmd_run() {
    ensure_venv
    ensure_tools optional "${TOOLS_OPTIONAL_FOR_RUN[@]}"
    ensure_web_dependencies optional
    select_database run
    log "applying migrations"
    "$VENV/bin/python" -m app.cli migrate || die "migrations failed"
    log "loading demo data if the database is empty"
    "$VENV/bin/python" -m app.cli load-demo --if-empty || die "loading the demo data failed"
    local host="${GEFIS_HOST:-127.0.0.1}" port="${GEFIS_PORT:-8000}" workers="${GEFIS_WORKERS:-1}"
    local -a worker_args=()
    # GEFIS_WORKERS service processes (uvicorn --workers); each has its own connection pools
    # and admission gate, so the database sees up to workers × (pool size + overflow).
    if ! [[ "$workers" =~ ^[0-9]{1,2}$ ]] || [ "$workers" -lt 1 ] || [ "$workers" -gt 64 ]; then
        die "GEFIS_WORKERS=$workers is not a number of processes from 1 to 64"
    fi
    [ "$workers" -eq 1 ] || worker_args=(--workers "$workers")
    log "serving on http://$host:$port/ with $workers process(es) (Ctrl-C stops the server; 'make stop' stops the database)"
    exec "$VENV/bin/uvicorn" app.main:app --host "$host" --port "$port" "${worker_args[@]}"
}

cmd_test() {
    ensure_venv
    ensure_tools required "${TOOLS_REQUIRED_FOR_TEST[@]}"
    ensure_web_dependencies required
    select_database test
    local -a parallel=()
    if [ "$#" -eq 0 ]; then
        # The whole suite runs in GEFIS_TEST_WORKERS pytest-xdist processes (default: one
        # per CPU, at most 4), each with its own test database and browser; a module stays
        # in one process (its module fixtures are built once). Runs given arguments (a
        # module, -k) stay in one process, where building a second database would not pay.
        local workers="${GEFIS_TEST_WORKERS:-$(nproc)}"
        [[ "$workers" =~ ^[0-9]{1,2}$ ]] || die "GEFIS_TEST_WORKERS=$workers is not a number"
        [ "${GEFIS_TEST_WORKERS:-}" ] || [ "$workers" -le 4 ] || workers=4
        [ "$workers" -le 1 ] || parallel=(--numprocesses "$workers" --dist loadfile)
    fi
    log "running pytest ${parallel[*]} $*"
    exec "$VENV/bin/pytest" "${parallel[@]}" "$@"
}

cmd_db() {
    if [ -n "${DATABASE_URL:-}" ]; then
        warn "DATABASE_URL is set in the environment; starting the local cluster anyway"
    fi
    ensure_postgis_server
    bash "$GEFIS_ROOT/scripts/dev/pg_local.sh" start
    bash "$GEFIS_ROOT/scripts/dev/pg_local.sh" url
}

cmd_lint() {
    ensure_venv
    exec "$VENV/bin/ruff" check .
}

main() {
    local cmd="${1:-}"
    [ "$#" -eq 0 ] || shift
    case "$cmd" in
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    db) cmd_db "$@" ;;
    lint) cmd_lint "$@" ;;
    *)
        echo "usage: $0 run|test [pytest args]|db|lint" >&2
        exit 2
        ;;
    esac
}

# Run main unless sourced (sourcing gives access to the functions, e.g. for debugging).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
