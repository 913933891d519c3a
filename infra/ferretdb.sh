#!/usr/bin/env bash
# Local FerretDB v1 (MongoDB wire protocol) on the local PostgreSQL (infra/postgres.sh), without Docker.
# Usage: infra/ferretdb.sh build|start|stop|status|wait [timeout_s]|clean
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/infra/ferretdb"
HOME_DIR="${LIFECYCLE_HOME:-$ROOT/.local}"
STATE="$HOME_DIR/ferretdb"
# LIFECYCLE_FERRETDB_BIN: build and run another binary, e.g. to try a change beside a running instance.
BIN="${LIFECYCLE_FERRETDB_BIN:-$HOME_DIR/bin/lifecycle-ferretdb}"
PIDFILE="$STATE/ferretdb.pid"
LOG="$STATE/logs/ferretdb.log"
HOST=127.0.0.1
PORT="${LIFECYCLE_MONGO_PORT:-27017}"
POSTGRES=(bash "$ROOT/infra/postgres.sh")

die() { echo "ferretdb.sh: $*" >&2; exit 1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null; }

# The pid file alone is not trusted: after a reboot the pid may belong to someone else.
running_pid() {
  local pid
  [[ -f "$PIDFILE" ]] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(ps -ww -p "$pid" -o args= 2>/dev/null)" == "$BIN "* ]] || return 1
  echo "$pid"
}

check_go() {
  command -v go >/dev/null ||
    die "'go' not found in PATH. Install Go >= $(need_go) (https://go.dev/dl/) and retry."
  local have need
  have="$(GOTOOLCHAIN=local go env GOVERSION)"; have="${have#go}"
  need="$(need_go)"
  [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" == "$need" ]] ||
    die "Go $have is too old: $SRC/go.mod needs Go >= $need. Install a newer Go (https://go.dev/dl/)."
}
need_go() { awk '$1 == "go" { print $2; exit }' "$SRC/go.mod"; }

cmd_build() {
  if [[ -x "$BIN" && "$BIN" -nt "$SRC/main.go" && "$BIN" -nt "$SRC/go.mod" && "$BIN" -nt "$SRC/go.sum" ]]; then
    return 0
  fi
  check_go
  mkdir -p "$(dirname "$BIN")"
  echo "ferretdb.sh: building $BIN (first build takes a minute or two)..." >&2
  # GOTOOLCHAIN=local: never try to download a toolchain; -mod=mod: fetch modules from the
  # proxy as go.sum allows.
  (cd "$SRC" && GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -o "$BIN.tmp" .)
  mv -f "$BIN.tmp" "$BIN"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    port_open && { echo "ferretdb already running (pid $pid, $HOST:$PORT)"; return 0; }
    echo "ferretdb (pid $pid) is running but $HOST:$PORT does not answer yet; use 'wait'"; return 0
  fi
  rm -f "$PIDFILE"
  port_open && die "port $HOST:$PORT is already in use by another process (not ours). Stop it or set LIFECYCLE_MONGO_PORT."
  "${POSTGRES[@]}" status 2>/dev/null ||
    die "PostgreSQL is not running; start it first: bash infra/postgres.sh start (make infra-up does both)"
  local pg_url; pg_url="$("${POSTGRES[@]}" url)"
  cmd_build
  mkdir -p "$STATE/logs"
  echo "=== start $(date -Is) port $PORT, $pg_url ===" >>"$LOG"
  # setsid detaches from our session so the server outlives this shell; the inner bash
  # writes its own pid and then execs, so the pid file names the server itself.
  DO_NOT_TRACK=1 setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    "$BIN" -listen-addr "$HOST:$PORT" -postgresql-url "$pg_url" </dev/null >>"$LOG" 2>&1 &
  # Give the inner bash time to write the pid file and exec the server.
  for _ in $(seq 50); do
    pid="$(running_pid)" && break
    [[ -s "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null && break
    sleep 0.1
  done
  [[ -n "$pid" ]] || { tail -n 40 "$LOG" >&2; rm -f "$PIDFILE"; die "ferretdb failed to start"; }
  echo "ferretdb started (pid $pid, $HOST:$PORT, log $LOG)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; echo "ferretdb not running"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "ferretdb (pid $pid) ignored SIGTERM for 15s; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  echo "ferretdb stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open; then echo "running (pid $pid, $HOST:$PORT accepting)"; else echo "running (pid $pid, $HOST:$PORT not accepting yet)"; fi
    return 0
  fi
  echo "stopped"; return 3
}

cmd_wait() {
  local timeout="${1:-30}" start=$SECONDS
  while ((SECONDS - start < timeout)); do
    if ! running_pid >/dev/null; then
      [[ -f "$LOG" ]] && tail -n 40 "$LOG" >&2
      die "ferretdb is not running (see log above: $LOG)"
    fi
    port_open && { echo "ferretdb ready on $HOST:$PORT"; return 0; }
    sleep 0.2
  done
  [[ -f "$LOG" ]] && tail -n 40 "$LOG" >&2
  die "ferretdb did not accept connections on $HOST:$PORT within ${timeout}s"
}

# The data lives in PostgreSQL (infra/postgres.sh clean); this only removes logs and pid file.
cmd_clean() { cmd_stop; rm -rf "$STATE"; echo "removed $STATE (binary kept)"; }

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  wait) cmd_wait "${2:-30}" ;;
  clean) cmd_clean ;;
  *) echo "usage: $0 build|start|stop|status|wait [timeout_s]|clean" >&2; exit 2 ;;
esac
