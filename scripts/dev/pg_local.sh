#!/usr/bin/env bash
# Project-local PostGIS cluster for development and tests (DEV ONLY: no passwords).
#
#   pg_local.sh start    init (first time) + start the cluster, create db "gefis" + postgis
#   pg_local.sh stop     stop it (no-op when not running)
#   pg_local.sh status   print state; exit 0 running, 3 stopped, 4 not initialised
#   pg_local.sh url      print the DATABASE_URL of the local cluster
#   pg_local.sh log      print the path of the server log
#   pg_local.sh destroy  stop it and delete all its data
#
# Layout: $GEFIS_DATA_DIR/pg/ (default .data/pg/) holds data/ (PGDATA), postgres.log
# and run/ (unix socket). As root, the cluster belongs to the "postgres" OS user
# (initdb refuses root). If that user cannot enter $GEFIS_DATA_DIR (e.g. a clone
# under /root), the cluster lives in $GEFIS_PG_RELOCATE_BASE/<hash of data dir>/
# and .data/pg is a symlink to it.
set -euo pipefail

# shellcheck source=scripts/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CLUSTER_LINK="$GEFIS_DATA_DIR/pg"
PG_OS_USER_ROOT="postgres" # owner of the cluster when we run as root

# --- helpers ------------------------------------------------------------------
bindir() {
    pg_bindir || die "PostgreSQL server binaries not found. Run 'make db' (installs them as root) or see README."
}

# Real path of the cluster directory (following the relocation symlink);
# empty if the cluster has never been set up.
cluster_dir() {
    if [ -L "$CLUSTER_LINK" ]; then
        readlink -m "$CLUSTER_LINK"
    elif [ -d "$CLUSTER_LINK" ]; then
        readlink -m "$CLUSTER_LINK"
    fi
}

is_initialised() { [ -f "$1/data/PG_VERSION" ]; }

# OS user that owns (or will own) the cluster.
cluster_owner() {
    local c="$1"
    if [ -d "$c/data" ]; then
        stat -c %U "$c/data"
    elif is_root; then
        printf '%s\n' "$PG_OS_USER_ROOT"
    else
        id -un
    fi
}

# Run a command as the cluster owner (from /, whose cwd is always accessible).
# fd 9 (the lock) is closed so that a started server does not inherit the lock.
as_owner() {
    local owner="$1"
    shift
    if [ "$owner" = "$(id -un)" ]; then
        (cd / && "$@") 9>&-
    elif is_root; then
        (cd / && runuser -u "$owner" -- "$@") 9>&-
    else
        die "the local cluster belongs to OS user '$owner'; run this as root or as '$owner'"
    fi
}

# Is anything listening on 127.0.0.1:$1 ?
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

take_lock() {
    mkdir -p "$GEFIS_DATA_DIR"
    exec 9>"$GEFIS_DATA_DIR/.pg.lock"
    flock -w 300 9 || die "timed out waiting for $GEFIS_DATA_DIR/.pg.lock (another start/stop running?)"
}

running_port() { # port from postmaster.pid (line 4), or nothing
    sed -n 4p "$1/data/postmaster.pid" 2>/dev/null || true
}

is_running() { # $1 = cluster dir
    local c="$1"
    is_initialised "$c" || return 1
    as_owner "$(cluster_owner "$c")" "$(bindir)/pg_ctl" -D "$c/data" status >/dev/null 2>&1
}

socket_dir() { # unix socket paths are limited to ~107 bytes
    local d="$1/run"
    if [ "${#d}" -le 80 ]; then printf '%s\n' "$d"; else printf '/tmp\n'; fi
}

print_log_tail() {
    local logf="$1"
    if [ -f "$logf" ]; then
        log "last lines of the server log ($logf):"
        tail -n 25 "$logf" >&2 || true
    fi
    log "server log: $logf"
}

# --- set-up -------------------------------------------------------------------
# Create the (empty) cluster directory, relocating it if the postgres OS user
# cannot reach $GEFIS_DATA_DIR. Prints its real path.
create_cluster_dir() {
    mkdir -p "$GEFIS_DATA_DIR"
    if ! is_root; then
        install -d -m 700 "$CLUSTER_LINK"
        readlink -m "$CLUSTER_LINK"
        return
    fi
    local owner="$PG_OS_USER_ROOT" group target
    id -u "$owner" >/dev/null 2>&1 \
        || die "OS user '$owner' does not exist (it comes with Debian's postgresql package); initdb refuses to run as root"
    group="$(id -gn "$owner")"
    if (cd / && runuser -u "$owner" -- test -x "$GEFIS_DATA_DIR") 2>/dev/null; then
        install -d -m 700 -o "$owner" -g "$group" "$CLUSTER_LINK"
        readlink -m "$CLUSTER_LINK"
        return
    fi
    target="$GEFIS_PG_RELOCATE_BASE/$(printf '%s' "$GEFIS_DATA_DIR" | sha256sum | cut -c1-16)"
    log "OS user '$owner' cannot enter $GEFIS_DATA_DIR; putting the cluster in $target"
    install -d -m 755 "$GEFIS_PG_RELOCATE_BASE"
    install -d -m 700 -o "$owner" -g "$group" "$target"
    (cd / && runuser -u "$owner" -- test -w "$target") \
        || die "OS user '$owner' cannot write $target; set GEFIS_PG_RELOCATE_BASE to a directory it can reach"
    ln -sfn "$target" "$CLUSTER_LINK"
    cat >"$GEFIS_DATA_DIR/pg.LOCATION.txt" <<EOF
The local PostGIS cluster of this checkout lives in
  $target
(.data/pg is a symlink to it) because the OS user '$owner' cannot enter
$GEFIS_DATA_DIR. 'make destroy-db' deletes it.
EOF
    printf '%s\n' "$target"
}

init_cluster() {
    local c="$1" bin owner
    bin="$(bindir)"
    owner="$(cluster_owner "$c")"
    log "initialising PostgreSQL $(pg_major "$bin") cluster in $c/data (owner: $owner)"
    if ! as_owner "$owner" "$bin/initdb" -D "$c/data" -U "$GEFIS_PG_USER" --auth=trust \
        -E UTF8 --no-locale --no-instructions >"$c/initdb.log" 2>&1; then
        cat "$c/initdb.log" >&2 || true
        die "initdb failed (output above, also in $c/initdb.log)"
    fi
    # DEV ONLY: no passwords; local socket and 127.0.0.1 only.
    cat >"$c/data/pg_hba.conf" <<'EOF'
# GEFIS-MD project-local DEVELOPMENT cluster: password-less (trust) access,
# restricted to the unix socket and 127.0.0.1. Never use this for production.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
    ensure_replication_hba "$c" "$owner" || true
    printf "\n# GEFIS-MD dev settings (rewritten on every start)\ninclude_if_exists = 'gefis.conf'\n" \
        >>"$c/data/postgresql.conf"
    if is_root; then chown "$owner:" "$c/data/pg_hba.conf" "$c/data/postgresql.conf"; fi
}

# Streaming replication from this cluster (pg_basebackup, a hot standby of it: see
# tests/test_replica.py) needs pg_hba entries for the "replication" pseudo-database, which
# "all" does not match. Added to clusters made before these lines existed, too.
REPLICATION_HBA_MARK="# GEFIS-MD: streaming replication (pg_basebackup, standbys), dev only"
ensure_replication_hba() { # $1 = cluster dir, $2 = owner; status 0 if it changed the file
    local hba="$1/data/pg_hba.conf"
    if grep -qF "$REPLICATION_HBA_MARK" "$hba"; then return 1; fi
    cat >>"$hba" <<EOF
$REPLICATION_HBA_MARK
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF
    if is_root; then chown "$2:" "$hba"; fi
    return 0
}

write_runtime_conf() {
    local c="$1" owner sock q="'"
    owner="$(cluster_owner "$c")"
    sock="$(socket_dir "$c")"
    if [ "$sock" != /tmp ]; then
        install -d -m 700 "$sock"
        if is_root; then chown "$owner:" "$sock"; fi
    fi
    cat >"$c/data/gefis.conf" <<EOF
# Written by scripts/dev/pg_local.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $GEFIS_PG_PORT
unix_socket_directories = '${sock//$q/$q$q}'
# dev cluster: a crash may lose the last transactions, never corrupts data
synchronous_commit = off
EOF
    if is_root; then chown "$owner:" "$c/data/gefis.conf"; fi
    if [ ! -e "$c/postgres.log" ]; then
        : >"$c/postgres.log"
        if is_root; then chown "$owner:" "$c/postgres.log"; fi
    fi
}

psql_admin() { # $1 = port, rest = psql args
    local port="$1"
    shift
    PGOPTIONS='-c client_min_messages=warning' PGCONNECT_TIMEOUT=10 \
        "$(bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$GEFIS_PG_USER" "$@"
}

ensure_database() {
    local port="$1" exists
    exists="$(psql_admin "$port" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$GEFIS_PG_DB'")"
    if [ "$exists" != 1 ]; then
        log "creating database $GEFIS_PG_DB"
        psql_admin "$port" -d postgres -c "CREATE DATABASE $GEFIS_PG_DB"
    fi
    psql_admin "$port" -d "$GEFIS_PG_DB" -c 'CREATE EXTENSION IF NOT EXISTS postgis' \
        || die "could not create the postgis extension (is postgresql-$(pg_major "$(bindir)")-postgis-3 installed?)"
}

url_for_port() {
    printf 'postgresql://%s@127.0.0.1:%s/%s\n' "$GEFIS_PG_USER" "$1" "$GEFIS_PG_DB"
}

# --- commands -----------------------------------------------------------------
cmd_start() {
    local c bin port
    if ! [[ "$GEFIS_PG_PORT" =~ ^[0-9]{1,5}$ ]] || [ "$GEFIS_PG_PORT" -lt 1 ] || [ "$GEFIS_PG_PORT" -gt 65535 ]; then
        die "GEFIS_PG_PORT=$GEFIS_PG_PORT is not a valid port"
    fi
    bin="$(bindir)"
    pg_has_postgis "$bin" \
        || die "PostGIS is not installed for PostgreSQL $(pg_major "$bin"): install postgresql-$(pg_major "$bin")-postgis-3 (or run 'make db' as root)"
    take_lock
    c="$(cluster_dir)"
    [ -n "$c" ] || c="$(create_cluster_dir)"
    [ -d "$c" ] || die "cluster directory $c (target of $CLUSTER_LINK) is missing; run 'make destroy-db' and retry"
    is_initialised "$c" || init_cluster "$c"

    if is_running "$c"; then
        port="$(running_port "$c")"
        log "local PostGIS cluster already running on 127.0.0.1:$port ($c)"
        if ensure_replication_hba "$c" "$(cluster_owner "$c")"; then
            log "allowed replication connections in pg_hba.conf; reloading the configuration"
            as_owner "$(cluster_owner "$c")" "$bin/pg_ctl" -D "$c/data" reload >/dev/null
        fi
        if [ "$port" != "$GEFIS_PG_PORT" ]; then
            warn "it runs on port $port, not GEFIS_PG_PORT=$GEFIS_PG_PORT; 'make stop' first to change the port"
        fi
    else
        if port_in_use "$GEFIS_PG_PORT"; then
            die "port 127.0.0.1:$GEFIS_PG_PORT is used by another program; set GEFIS_PG_PORT to a free port"
        fi
        ensure_replication_hba "$c" "$(cluster_owner "$c")" || true
        write_runtime_conf "$c"
        log "starting local PostGIS cluster on 127.0.0.1:$GEFIS_PG_PORT (log: $c/postgres.log)"
        if ! as_owner "$(cluster_owner "$c")" "$bin/pg_ctl" -D "$c/data" -l "$c/postgres.log" \
            -w -t 90 start >/dev/null; then
            print_log_tail "$c/postgres.log"
            die "could not start the local PostgreSQL cluster (server log: $c/postgres.log)"
        fi
        port="$GEFIS_PG_PORT"
    fi
    ensure_database "$port"
    log "database ready: $(url_for_port "$port")"
}

cmd_stop() {
    local c
    c="$(cluster_dir)"
    if [ -z "$c" ] || ! is_initialised "$c"; then
        log "no local cluster in $CLUSTER_LINK; nothing to stop"
        return 0
    fi
    take_lock
    if ! is_running "$c"; then
        log "local cluster is not running"
        return 0
    fi
    log "stopping local PostGIS cluster ($c)"
    as_owner "$(cluster_owner "$c")" "$(bindir)/pg_ctl" -D "$c/data" -m fast -w -t 90 stop >/dev/null \
        || {
            print_log_tail "$c/postgres.log"
            die "pg_ctl stop failed"
        }
    log "stopped"
}

cmd_status() {
    local c
    c="$(cluster_dir)"
    if [ -z "$c" ] || ! is_initialised "$c"; then
        log "not initialised (would live in $CLUSTER_LINK)"
        return 4
    fi
    if is_running "$c"; then
        log "running on 127.0.0.1:$(running_port "$c"); data: $c/data; log: $c/postgres.log"
        return 0
    fi
    log "stopped; data: $c/data; log: $c/postgres.log"
    return 3
}

cmd_url() {
    local c port="$GEFIS_PG_PORT"
    c="$(cluster_dir)"
    if [ -n "$c" ] && is_running "$c"; then port="$(running_port "$c")"; fi
    url_for_port "$port"
}

cmd_log() {
    local c
    c="$(cluster_dir)"
    [ -n "$c" ] || c="$CLUSTER_LINK"
    printf '%s\n' "$c/postgres.log"
}

cmd_destroy() {
    local c
    cmd_stop
    c="$(cluster_dir)"
    if [ -z "$c" ]; then
        log "no local cluster to delete"
        return 0
    fi
    take_lock
    if [ -d "$c" ] && [ -n "$(ls -A "$c")" ] && [ ! -e "$c/data" ] && [ ! -e "$c/postgres.log" ]; then
        die "$c does not look like a GEFIS-MD cluster directory; not deleting it"
    fi
    log "deleting local cluster $c"
    rm -rf -- "$c"
    if [ -L "$CLUSTER_LINK" ]; then rm -f -- "$CLUSTER_LINK"; fi
    rm -f -- "$GEFIS_DATA_DIR/pg.LOCATION.txt"
    log "deleted"
}

main() {
    local cmd="${1:-}"
    case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    log) cmd_log ;;
    destroy) cmd_destroy ;;
    *)
        echo "usage: $0 start|stop|status|url|log|destroy" >&2
        exit 2
        ;;
    esac
}

main "$@"
