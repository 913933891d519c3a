#!/usr/bin/env bash
# Single-node Apache Kafka 4.x (KRaft) for local dev and CI, run from Maven Central jars: no Docker, no tarball.
# Usage: infra/kafka.sh install|start|stop|status|wait [timeout_s]|clean
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"
CONF_DIR="$SCRIPT_DIR/kafka"
STATE="${LIFECYCLE_HOME:-$REPO_ROOT/.local}/kafka"
LIB="$STATE/lib" DATA="$STATE/data" LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid" LOG="$STATE/logs/kafka.log" PROPS="$STATE/server.properties"
HOST=127.0.0.1
PORT="${LIFECYCLE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${LIFECYCLE_KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${LIFECYCLE_KAFKA_HEAP:-1g}"
# The POM is the single place the version is pinned. lib/ is stamped with a hash of the whole POM,
# so editing it (new version, extra jar) triggers a re-resolve while an unchanged POM skips Maven.
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$CONF_DIR/pom.xml")"
STAMP="$VERSION $(sha256sum "$CONF_DIR/pom.xml" | cut -c1-16)"

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  command -v java >/dev/null || die "java not found; install a Java 17+ JDK/JRE (Debian: apt-get install -y openjdk-17-jre-headless)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')"
  [[ "${major:-0}" -ge 17 ]] || die "Kafka 4.x needs Java 17+, found java ${major:-unknown}"
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Only trust the pid file if that pid is still a kafka.Kafka started with *our* properties file
# (pids get reused; another checkout may run its own broker).
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

install() {
  need
  if [[ -f "$LIB/.stamp" && "$(cat "$LIB/.stamp")" == "$STAMP" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found; install Apache Maven 3.6+ (Debian: apt-get install -y maven)"
  log "resolving org.apache.kafka:kafka_2.13:$VERSION into $LIB"
  # Copy into a temp dir and rename, so an interrupted install never looks complete.
  # Maven's output goes to a file: even with -q, Maven 3.8 prints stray ANSI resets on stdout.
  rm -rf "$LIB.tmp" && mkdir -p "$LOGS"
  mvn -q -B -f "$CONF_DIR/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$LIB.tmp" </dev/null >"$LOGS/maven.log" 2>&1 ||
    { tail -n 40 "$LOGS/maven.log" >&2; die "maven could not resolve kafka_2.13:$VERSION (see $LOGS/maven.log)"; }
  ls "$LIB.tmp"/kafka_2.13-*.jar "$LIB.tmp"/log4j-core-*.jar >/dev/null 2>&1 || die "resolved classpath is incomplete: $LIB.tmp"
  echo "$STAMP" >"$LIB.tmp/.stamp"
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB"
}

write_props() {
  mkdir -p "$DATA" "$LOGS"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA|g" \
      "$CONF_DIR/server.properties.tmpl" >"$PROPS"
}

format_storage() {
  # The --standalone bootstrap records the controller endpoint, so a later port change needs a fresh data dir.
  if [[ -f "$DATA/meta.properties" ]]; then
    [[ "$(cat "$DATA/.controller_port" 2>/dev/null)" == "$CONTROLLER_PORT" ]] ||
      die "data in $DATA was formatted for another controller port; run '$0 clean' first"
    return 0
  fi
  # Same shape as `StorageTool random-uuid` (16 random bytes, url-safe base64, no padding) without paying a JVM
  # start; Kafka rejects ids starting with "-" on the command line, hence the retry.
  local cid=-
  while [[ "$cid" == -* ]]; do cid="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; done
  java -cp "$LIB/*" -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" kafka.tools.StorageTool \
      format --standalone --ignore-formatted -t "$cid" -c "$PROPS" >>"$LOG" 2>&1 ||
      { tail -n 40 "$LOG" >&2; die "storage format failed"; }
  echo "$CONTROLLER_PORT" >"$DATA/.controller_port"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    port_open "$PORT" && { log "already running (pid $pid) on $HOST:$PORT"; return 0; }
    log "pid $pid is starting but $HOST:$PORT does not answer yet; use '$0 wait'"; return 0
  fi
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$p" && die "port $HOST:$p is already in use by another process (not this broker); stop it or set LIFECYCLE_KAFKA_PORT / LIFECYCLE_KAFKA_CONTROLLER_PORT"
  done
  install
  write_props
  # One log per run (previous kept as .1), so `wait` shows this run's failure, not an old one.
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  format_storage
  rm -f "$PIDFILE"
  # setsid detaches from our session so the broker survives the caller's shell; the inner bash
  # writes its own pid and then execs java, so the pid file always names the JVM itself.
  # G1 flags mirror kafka-run-class.sh; the heap is kept small for a 2-core dev box.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    java -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
      -cp "$LIB/*" kafka.Kafka "$PROPS" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 50); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
  log "started pid $(cat "$PIDFILE" 2>/dev/null || echo '?') on $HOST:$PORT (log: $LOG)"
}

wait_ready() {
  local timeout="${1:-60}" deadline=$((SECONDS + ${1:-60}))
  while ((SECONDS < deadline)); do
    running_pid >/dev/null || { tail -n 40 "$LOG" >&2 2>/dev/null || true; die "broker is not running"; }
    port_open "$PORT" && { log "ready on $HOST:$PORT"; return 0; }
    sleep 0.5
  done
  tail -n 40 "$LOG" >&2 2>/dev/null || true
  die "broker did not answer on $HOST:$PORT within ${timeout}s"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; log "not running"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  # A controlled shutdown of a single KRaft node normally takes a few seconds.
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored TERM for 20s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if pid="$(running_pid)"; then log "running (pid $pid) on $HOST:$PORT"; else log "not running"; exit 1; fi ;;
  wait) wait_ready "${2:-60}" ;;
  clean) stop; rm -rf "$DATA" "$LOGS" "$PROPS"; log "data removed (jars kept in $LIB)" ;;
  *) echo "usage: $0 install|start|stop|status|wait [timeout_s]|clean" >&2; exit 2 ;;
esac
