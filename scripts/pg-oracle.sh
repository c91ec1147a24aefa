#!/usr/bin/env bash
# Runs a private PostgreSQL server that the Freshet test suites use as their
# oracle: the sqllogictest files are generated from it, the differential
# harness compares Freshet's answers with its answers, and every harness can
# be pointed at it to check the harness itself.
#
# Usage: scripts/pg-oracle.sh start|stop|status|url
#
#   start   initdb (first time only) and start the server; create the
#           database `oracle`. Idempotent: a running oracle is left running.
#   stop    stop the server (fast shutdown). Idempotent.
#   status  exit 0 when the oracle is running.
#   url     print the connection URL (also exported as FRESHET_TEST_PG_URL by
#           .ci/run).
#
# The server is never the system service: it is a cluster of its own under
# .ci/tmp/pg-oracle, owned by the `postgres` user when run as root (initdb
# refuses root), with trust authentication, listening on 127.0.0.1 only.
# It is configured the way Freshet behaves, so that results are comparable:
# locale C.UTF-8 (text sorts by code point, which for UTF-8 is byte order;
# upper/lower map all of Unicode), encoding UTF8, TimeZone UTC, DateStyle ISO,
# English messages. Durability is switched off (fsync=off): it is a test
# oracle, not a store.
#
# Environment overrides: PG_ORACLE_PORT (default 54329), PG_ORACLE_DIR
# (default <repo>/.ci/tmp/pg-oracle, or /tmp/freshet-pg-oracle-<checksum> when
# the postgres user cannot reach the checkout), PG_ORACLE_BINDIR (default:
# the newest /usr/lib/postgresql/*/bin). To start from scratch, stop the
# oracle and delete its directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PG_ORACLE_PORT:-54329}"

# The cluster lives under .ci/tmp/pg-oracle unless the `postgres` user cannot
# reach the checkout (e.g. a clone under a private home directory): then it
# lives in a /tmp directory named after the checkout's path, so start, stop
# and status still agree on where it is.
default_base_dir() {
    local preferred="$repo_root/.ci/tmp/pg-oracle"
    if [[ "$(id -u)" -eq 0 ]] && ! runuser -u postgres -- test -x "$repo_root" 2>/dev/null; then
        printf '/tmp/freshet-pg-oracle-%s\n' "$(printf '%s' "$repo_root" | cksum | cut -d' ' -f1)"
    else
        printf '%s\n' "$preferred"
    fi
}
base_dir="${PG_ORACLE_DIR:-$(default_base_dir)}"
data_dir="$base_dir/data"
socket_dir="$base_dir/socket"
log_file="$base_dir/server.log"
url="postgresql://postgres@127.0.0.1:${port}/oracle"

log() { printf 'pg-oracle: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bindir() {
    if [[ -n "${PG_ORACLE_BINDIR:-}" ]]; then
        printf '%s\n' "$PG_ORACLE_BINDIR"
        return
    fi
    local candidate
    candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$candidate" && -x "$candidate/initdb" ]]; then
        printf '%s\n' "$candidate"
        return
    fi
    if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir
        return
    fi
    die "no PostgreSQL server binaries found (apt-get install -y postgresql)"
}

bindir="$(find_bindir)"

# Runs a command as the cluster's owner: `postgres` when we are root, else us.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

prepare_dirs() {
    mkdir -p "$base_dir" "$socket_dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$base_dir" "$socket_dir"
        # The postgres user must be able to reach the directory: every parent
        # needs the execute bit for "other". A clone under a private home
        # directory does not have it; say so rather than fail obscurely.
        if ! runuser -u postgres -- test -w "$base_dir"; then
            die "user postgres cannot write $base_dir; set PG_ORACLE_DIR to a directory it can reach (e.g. /tmp/pg-oracle)"
        fi
    fi
}

running() {
    [[ -f "$data_dir/PG_VERSION" ]] && as_owner "$bindir/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

psql_oracle() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

cmd_start() {
    prepare_dirs
    if [[ ! -f "$data_dir/PG_VERSION" ]]; then
        log "initdb into $data_dir"
        as_owner "$bindir/initdb" -D "$data_dir" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$base_dir/initdb.log" 2>&1 \
            || { cat "$base_dir/initdb.log" >&2; die "initdb failed"; }
        as_owner tee -a "$data_dir/postgresql.conf" >/dev/null <<EOF

# Added by scripts/pg-oracle.sh: a loopback-only test oracle.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
timezone = 'UTC'
log_timezone = 'UTC'
datestyle = 'iso, mdy'
lc_messages = 'C'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    fi
    if running; then
        log "already running on 127.0.0.1:$port"
    else
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port on 127.0.0.1 is taken by another process; set PG_ORACLE_PORT"
        fi
        log "starting on 127.0.0.1:$port (log: $log_file)"
        as_owner "$bindir/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 start >/dev/null \
            || { tail -n 50 "$log_file" >&2 || true; die "pg_ctl start failed"; }
    fi
    # Create the database `oracle` unless it exists.
    local exists
    exists="$(psql_oracle -d postgres -At -c "SELECT 1 FROM pg_database WHERE datname = 'oracle'")"
    if [[ "$exists" != "1" ]]; then
        psql_oracle -d postgres -c "CREATE DATABASE oracle"
    fi
    log "ready: $url"
}

cmd_stop() {
    if running; then
        log "stopping"
        as_owner "$bindir/pg_ctl" -D "$data_dir" -m fast -w -t 60 stop >/dev/null
    else
        log "not running"
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) running ;;
    url) printf '%s\n' "$url" ;;
    *)
        echo "usage: $0 start|stop|status|url" >&2
        exit 2
        ;;
esac
