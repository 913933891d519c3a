#!/usr/bin/env bash
# Starts and stops the four services as background processes with pid files and logs.
# Usage: infra/services.sh start|stop|status
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${LIFECYCLE_HOME:-$ROOT/.local}/services"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
# Addresses derived from LIFECYCLE_KAFKA_PORT, LIFECYCLE_MONGO_PORT, LIFECYCLE_HTTP_PORT_BASE; the dev tokens.
source "$ROOT/infra/env.sh"
SERVICES=(inventory actions replacement retraining trainer)

log() { echo "services.sh: $*" >&2; }

pid_of() {
  local pidfile="$STATE/$1.pid"
  [[ -f "$pidfile" ]] || return 1
  local pid; pid="$(cat "$pidfile")"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "services.$1" && echo "$pid"
}

# The port the service itself will use: its settings, with the environment applied (defined once there).
port_of() { (cd "$ROOT" && "$PYTHON" -m shared.service.serve port "$1"); }

start() {
  mkdir -p "$STATE"
  cd "$ROOT"
  for svc in "${SERVICES[@]}"; do
    if pid_of "$svc" >/dev/null; then log "$svc already running"; continue; fi
    # Detached in its own session, with no inherited descriptors, so callers' pipes close.
    setsid nohup "$PYTHON" -m "services.$svc" >>"$STATE/$svc.log" 2>&1 </dev/null &
    echo $! >"$STATE/$svc.pid"
    log "$svc started on :$(port_of "$svc") (log: $STATE/$svc.log)"
  done
  for svc in "${SERVICES[@]}"; do
    local port; port="$(port_of "$svc")"
    for _ in $(seq 1 120); do
      if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then log "$svc ready"; continue 2; fi
      pid_of "$svc" >/dev/null || { tail -n 30 "$STATE/$svc.log" >&2; log "$svc died"; exit 1; }
      sleep 0.5
    done
    tail -n 30 "$STATE/$svc.log" >&2; log "$svc not ready after 60s"; exit 1
  done
}

stop() {
  for svc in "${SERVICES[@]}"; do
    local pid
    if pid="$(pid_of "$svc")"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL "$pid" 2>/dev/null || true
      log "$svc stopped"
    fi
    rm -f "$STATE/$svc.pid"
  done
}

status() {
  local rc=0
  for svc in "${SERVICES[@]}"; do
    if pid="$(pid_of "$svc")"; then echo "$svc running (pid $pid)"; else echo "$svc stopped"; rc=3; fi
  done
  return $rc
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
