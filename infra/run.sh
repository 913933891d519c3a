#!/usr/bin/env bash
# `make run`: start Kafka, the database and the services (make up), play the demo, then keep everything
# running until Ctrl-C (or TERM), which stops the services and the infrastructure (make down) once:
# no traceback, no second Ctrl-C needed, nothing left running.
#
# Ctrl-C reaches every process of the terminal's foreground group: make, this script and whatever it runs
# in the foreground (make up, the demo). The services and the infrastructure run in sessions of their own
# (setsid), so only `make down` stops them. This script traps the signal, ignores any further one while it
# stops everything (the stop scripts inherit that), and exits 0 so that make reports no error; make then
# ends itself with the same signal, as a program interrupted by Ctrl-C should.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/env.sh
source infra/env.sh
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MAKE="${MAKE:-make}"
waiting=""
stopping=0

stop() {
  ((stopping)) && return
  stopping=1
  trap '' INT TERM
  [[ -n "$waiting" ]] && kill "$waiting" 2>/dev/null
  echo
  echo "run.sh: stopping the services and the infrastructure..."
  "$MAKE" -s --no-print-directory down 2>&1 | sed 's/^/  /'
  echo "run.sh: stopped."
  exit "${1:-0}"
}
trap 'stop 0' INT TERM

"$MAKE" -s --no-print-directory up || { echo "run.sh: the stack did not start (see above)"; stop 1; }

"$PY" -m tools.demo
demo=$?
((demo == 130)) && stop 0  # Ctrl-C during the demo: the trap runs after it, this is the fallback
((demo == 0)) || echo "run.sh: the demo did not finish (see the line above); the stack keeps running for a look."

inventory="${LIFECYCLE_INVENTORY_URL:-http://127.0.0.1:8001}"
echo
echo "Running: the inventory at $inventory/ and every service's /docs; logs in ${LIFECYCLE_HOME:-.local}/services/."
echo "Press Ctrl-C to stop everything."
# A background sleep and `wait`: the trap runs as soon as the signal arrives (a foreground sleep would
# delay it); asynchronous commands ignore SIGINT, so stop() ends the sleep itself.
sleep infinity &
waiting=$!
wait "$waiting"
