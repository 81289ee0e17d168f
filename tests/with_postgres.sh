#!/usr/bin/env bash
# Usage: tests/with_postgres.sh CMD [ARG...]
#
# Starts a throwaway PostgreSQL cluster, runs CMD with DATABASE_URL pointing at
# it, then stops and deletes the cluster whatever happens. Exits with CMD's
# exit code (or non-zero if the cluster could not be set up).
#
# The cluster listens only on a Unix socket inside its own temporary directory
# (no TCP port, so it cannot clash with another PostgreSQL on the machine),
# trusts local connections, and runs with fsync, synchronous_commit and
# full_page_writes off: fast, and fine for data that is deleted afterwards.
# CMD connects as the `postgres` superuser, so pytest-django can create and
# drop its test database (test_newsportal).
#
# Needs Debian's `postgresql` package (binaries in /usr/lib/postgresql/N/bin).
# initdb refuses to run as root, so as root the cluster runs as the `postgres`
# user (via runuser) while CMD still runs as root.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARG...]" >&2
    exit 2
fi

log() { echo "with_postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- Find the PostgreSQL binaries (newest installed major version) ---------
PG_BIN=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
        PG_BIN="$candidate"
        break
    fi
done
[[ -n "$PG_BIN" ]] || die "no PostgreSQL server found in /usr/lib/postgresql/*/bin (apt-get install postgresql)"

DB_NAME="${WITH_POSTGRES_DB:-newsportal}"
DB_USER="postgres"

# --- As root, run the server as `postgres`; otherwise as ourselves ---------
if [[ "$(id -u)" -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user (apt-get install postgresql)"
    command -v runuser >/dev/null 2>&1 || die "runuser not found (util-linux)"
    as_pg() { runuser -u postgres -- "$@"; }
    # The socket dir's parent must be traversable by `postgres`; /tmp always is.
    tmp_parent="${TMPDIR:-/tmp}"
    if ! runuser -u postgres -- test -x "$tmp_parent" -a -d "$tmp_parent" 2>/dev/null; then
        tmp_parent=/tmp
    fi
else
    as_pg() { "$@"; }
    tmp_parent="${TMPDIR:-/tmp}"
fi

PG_TMP="$(mktemp -d "$tmp_parent/newsportal-pg.XXXXXX")"
PG_DATA="$PG_TMP/data"
PG_LOG="$PG_TMP/server.log"
PG_STARTED=0

# A Unix socket path may be at most 107 bytes.
if (( ${#PG_TMP} + 16 > 107 )); then
    rm -rf "$PG_TMP"
    die "socket directory path too long: $PG_TMP (set TMPDIR to a shorter path)"
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ "$PG_STARTED" -eq 1 ]]; then
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1; then
            # Last resort: kill the postmaster by the pid it recorded.
            if [[ -f "$PG_DATA/postmaster.pid" ]]; then
                kill -9 "$(head -n1 "$PG_DATA/postmaster.pid")" 2>/dev/null || true
                sleep 1
            fi
        fi
    fi
    rm -rf "$PG_TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres: "$PG_TMP"
fi

# --- Create and start the cluster -----------------------------------------
# UTF-8 whatever the caller's locale (with LANG unset, initdb would otherwise
# choose SQL_ASCII); C.UTF-8 is built into Debian's glibc.
if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$DB_USER" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_TMP/initdb.log" 2>&1; then
    cat "$PG_TMP/initdb.log" >&2
    die "initdb failed"
fi

cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- throwaway test cluster (tests/with_postgres.sh) ---
listen_addresses = ''
unix_socket_directories = '$PG_TMP'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

# pg_ctl's log must be writable by the server's user: keep it in PG_TMP.
if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null 2>&1; then
    PG_STARTED=1  # it may be half-up; let cleanup try to stop it
    [[ -f "$PG_LOG" ]] && cat "$PG_LOG" >&2
    die "PostgreSQL did not start"
fi
PG_STARTED=1

if ! "$PG_BIN/createdb" -h "$PG_TMP" -U "$DB_USER" "$DB_NAME" >&2; then
    die "createdb $DB_NAME failed"
fi

# The socket directory goes in the host part, percent-encoded: dj-database-url
# then sets HOST to the directory, which psycopg treats as a Unix socket.
encoded_dir="$(printf '%s' "$PG_TMP" | sed -e 's/%/%25/g' -e 's|/|%2F|g')"
export DATABASE_URL="postgres://$DB_USER@$encoded_dir/$DB_NAME"

log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on socket $PG_TMP, database $DB_NAME"
log "DATABASE_URL=$DATABASE_URL"

# --- Run CMD; its exit code becomes ours ----------------------------------
set +e
"$@"
cmd_rc=$?
set -e
exit "$cmd_rc"
