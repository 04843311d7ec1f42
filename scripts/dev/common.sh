# shellcheck shell=bash
# Shared settings and helpers for the GEFIS-MD dev scripts.
# Source this file (it is not meant to be executed on its own).

GEFIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

# --- configuration (environment overrides) ---------------------------------
# Where the project-local state lives (cluster, logs, lock file).
GEFIS_DATA_DIR="${GEFIS_DATA_DIR:-$GEFIS_ROOT/.data}"
# TCP port of the project-local PostGIS cluster (listens on 127.0.0.1 only).
GEFIS_PG_PORT="${GEFIS_PG_PORT:-54329}"
# When running as root and the postgres OS user cannot enter GEFIS_DATA_DIR,
# the cluster is created under this directory instead (see pg_local.sh).
GEFIS_PG_RELOCATE_BASE="${GEFIS_PG_RELOCATE_BASE:-/var/lib/gefis-md}"
# shellcheck disable=SC2034 # used by the scripts that source this file
GEFIS_PG_USER="gefis"
# shellcheck disable=SC2034
GEFIS_PG_DB="gefis"

# --- messages ----------------------------------------------------------------
log() { printf '[gefis] %s\n' "$*" >&2; }
warn() { printf '[gefis] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[gefis] ERROR: %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- PostgreSQL discovery -----------------------------------------------------
# Print the bin directory of the newest installed PostgreSQL *server*
# (a directory containing initdb, pg_ctl and postgres). Returns 1 if none.
# GEFIS_PG_BINDIR overrides the search.
pg_bindir() {
    local d
    if [ -n "${GEFIS_PG_BINDIR:-}" ]; then
        [ -x "$GEFIS_PG_BINDIR/initdb" ] && [ -x "$GEFIS_PG_BINDIR/pg_ctl" ] \
            && [ -x "$GEFIS_PG_BINDIR/postgres" ] || return 1
        printf '%s\n' "$GEFIS_PG_BINDIR"
        return 0
    fi
    # Debian layout: /usr/lib/postgresql/NN/bin (client-only versions lack initdb).
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    # Other layouts: server binaries on PATH.
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 \
        && command -v postgres >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    return 1
}

# Major version of the server in bindir $1, e.g. "15".
pg_major() {
    "$1/postgres" -V | grep -oE '[0-9]+' | head -n1
}

# True if the PostGIS extension is installed for the server in bindir $1.
pg_has_postgis() {
    local bindir="$1" sharedir=""
    if [ -x "$bindir/pg_config" ]; then
        sharedir="$("$bindir/pg_config" --sharedir 2>/dev/null || true)"
    fi
    [ -n "$sharedir" ] || sharedir="/usr/share/postgresql/$(pg_major "$bindir")"
    [ -f "$sharedir/extension/postgis.control" ]
}
