#!/usr/bin/env bash
# The whole local stack behind `make up`, `make worker` and `make down`.
#   scripts/stack.sh up           PostgreSQL + Temporal dev server + migrations
#   scripts/stack.sh services     PostgreSQL + Temporal dev server only
#   scripts/stack.sh worker       start bin/worker in the background (reused if
#                                 it runs and bin/worker has not been rebuilt)
#   scripts/stack.sh stop-worker  stop the worker this script started
#   scripts/stack.sh down         stop the worker, Temporal and PostgreSQL (each
#                                 only if this repository's scripts started it)
#   scripts/stack.sh stop-started FILE
#                                 stop what an `up`/`services` run with
#                                 TIERSHIFT_STARTED_LOG=FILE started, and
#                                 nothing else (how make test leaves the
#                                 machine as it found it)
#   scripts/stack.sh codec-server start `starter codec-server` in the background
#                                 (decrypts payloads for the Web UI; reused if
#                                 it runs and bin/starter has not been rebuilt)
#   scripts/stack.sh secrets      make the local payload encryption key and the
#                                 codec server's operator token if missing
#   scripts/stack.sh status
# Logs and pid files live in .dev/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev

WORKER_PID=.dev/worker.pid
WORKER_LOG=.dev/worker.log
CODEC_PID=.dev/codec-server.pid
CODEC_LOG=.dev/codec-server.log
# The local stack's payload encryption key and the codec server's operator
# token: made once per checkout, readable by this user only, never printed.
# Lose the key file and the histories it encrypted cannot be read.
KEY_FILE=.dev/codec.keys
TOKEN_FILE=.dev/codec.token
if [ -z "${TIERSHIFT_CODEC_KEY_FILE:-}${TIERSHIFT_CODEC_KEYS:-}" ]; then
  export TIERSHIFT_CODEC_KEY_FILE=$PWD/$KEY_FILE
fi
ADDR=${TEMPORAL_ADDRESS:-localhost:7233}
UI_PORT=${TEMPORAL_UI_PORT:-$((${ADDR##*:} + 1000))}
# The codec server listens next to the Web UI: 8234 beside 8233.
CODEC_ADDR=${TIERSHIFT_CODEC_ADDR:-127.0.0.1:$((UI_PORT + 1))}

die() { echo "stack: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

secrets() {
  if [ ! -s "$KEY_FILE" ]; then
    (umask 077 && printf 'dev-%s:%s\n' "$(date -u +%Y%m%d%H%M%S)" "$(head -c 32 /dev/urandom | base64 -w0)" >"$KEY_FILE")
    say "made this checkout's payload encryption key ($KEY_FILE); keep it, the histories it encrypts need it"
  fi
  if [ ! -s "$TOKEN_FILE" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_' >"$TOKEN_FILE")
  fi
}

services() {
  secrets
  scripts/postgres.sh up
  # A dev server started here shows payloads decoded through the codec
  # server (make demo starts it); the endpoint carries the operator token,
  # which the Web UI cannot send otherwise (see README "Personal data").
  TEMPORAL_EXTRA_ARGS="${TEMPORAL_EXTRA_ARGS:-} --ui-codec-endpoint http://$CODEC_ADDR/$(cat "$TOKEN_FILE")" \
    scripts/temporal.sh up
}

codec_pid() { started_pid "$CODEC_PID" codec-server; }

stop_codec_server() {
  local pid
  if pid=$(codec_pid); then
    kill "$pid" 2>/dev/null || true
    say "codec server stopped (pid $pid)"
  fi
  rm -f "$CODEC_PID"
}

codec_server() {
  [ -x bin/starter ] || die "bin/starter is missing; run: make build"
  secrets
  local pid
  if pid=$(codec_pid); then
    if [ bin/starter -nt "$CODEC_PID" ]; then stop_codec_server; else
      say "reusing the codec server (pid $pid, http://$CODEC_ADDR)"
      return 0
    fi
  fi
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) starting the codec server" >>"$CODEC_LOG"
  nohup env TIERSHIFT_CODEC_TOKEN_FILE="$PWD/$TOKEN_FILE" bin/starter codec-server --listen "$CODEC_ADDR" \
    --ui-origin "http://localhost:$UI_PORT" --ui-origin "http://127.0.0.1:$UI_PORT" >>"$CODEC_LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$CODEC_PID"
  local deadline=$((SECONDS + 10))
  until grep -q "codec server listening" "$CODEC_LOG" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      rm -f "$CODEC_PID"
      tail -n 5 "$CODEC_LOG" >&2 || true
      die "the codec server did not start"
    fi
    sleep 0.2
  done
  say "codec server running on http://$CODEC_ADDR (pid $pid, log $CODEC_LOG)"
}

migrate() {
  [ -x bin/starter ] || die "bin/starter is missing; run: make build"
  bin/starter migrate || die "bin/starter migrate failed"
}

# started_pid PIDFILE WORD prints the pid in PIDFILE if that process still
# runs and its command line has WORD (so a reused pid is not ours).
started_pid() {
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
  echo "$pid"
}

# worker_pid prints the pid of the worker this script started, if it still runs.
worker_pid() { started_pid "$WORKER_PID" bin/worker; }

stop_worker() {
  local pid
  if ! pid=$(worker_pid); then
    rm -f "$WORKER_PID"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  # The worker drains in-flight tasks on SIGTERM; give it a while.
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$WORKER_PID"
  say "worker stopped (pid $pid)"
}

worker() {
  [ -x bin/worker ] || die "bin/worker is missing; run: make build"
  local pid
  if pid=$(worker_pid); then
    if [ bin/worker -nt "$WORKER_PID" ]; then
      say "bin/worker was rebuilt; restarting the worker"
      stop_worker
    else
      say "reusing the worker (pid $pid, log $WORKER_LOG)"
      return 0
    fi
  fi
  # Capture mode (mail recorded, not sent) unless DEMO_SEND_EMAIL=1 keeps a
  # SENDGRID_API_KEY from the environment.
  local envs=()
  [ "${DEMO_SEND_EMAIL:-}" = 1 ] || envs+=(-u SENDGRID_API_KEY)
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) starting bin/worker" >>"$WORKER_LOG"
  nohup env "${envs[@]}" bin/worker >>"$WORKER_LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$WORKER_PID"
  # A worker that cannot reach Temporal or PostgreSQL exits at once.
  sleep 2
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$WORKER_PID"
    echo "stack: the worker exited; last lines of $WORKER_LOG:" >&2
    tail -n 30 "$WORKER_LOG" >&2 || true
    exit 1
  fi
  say "worker running (pid $pid, log $WORKER_LOG)"
}

# stop_started stops each service FILE lists, newest first.
stop_started() {
  local file=$1 kind a b
  [ -f "$file" ] || return 0
  tac "$file" | while read -r kind a b; do
    case "$kind" in
      temporal) TEMPORAL_ADDRESS=$a scripts/temporal.sh down ;;
      cluster) scripts/cluster.sh down ;;
      postgres)
        pg_ctlcluster "$a" "$b" stop || true
        rm -f .dev/postgres.started
        say "stopped PostgreSQL $a/$b (this run started it)"
        ;;
    esac
  done
  rm -f "$file"
}

case "${1:-up}" in
  up) services; migrate ;;
  services) services ;;
  worker) worker ;;
  stop-worker) stop_worker ;;
  stop-started) stop_started "${2:?usage: $0 stop-started FILE}" ;;
  codec-server) codec_server ;;
  secrets) secrets ;;
  down)
    stop_codec_server
    stop_worker
    scripts/temporal.sh down
    scripts/postgres.sh down
    ;;
  status)
    if pid=$(worker_pid); then say "worker running (pid $pid)"; else say "worker not running"; fi
    if pid=$(codec_pid); then say "codec server running (pid $pid, http://$CODEC_ADDR)"; else say "codec server not running"; fi
    scripts/temporal.sh status || true
    pg_lsclusters 2>/dev/null || true
    ;;
  *) die "usage: $0 up|services|worker|stop-worker|codec-server|secrets|stop-started FILE|down|status" ;;
esac
