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
#   scripts/stack.sh status
# Logs and pid files live in .dev/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev

WORKER_PID=.dev/worker.pid
WORKER_LOG=.dev/worker.log

die() { echo "stack: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

services() {
  scripts/postgres.sh up
  scripts/temporal.sh up
}

migrate() {
  [ -x bin/starter ] || die "bin/starter is missing; run: make build"
  bin/starter migrate || die "bin/starter migrate failed"
}

# worker_pid prints the pid of the worker this script started, if it still runs.
worker_pid() {
  [ -f "$WORKER_PID" ] || return 1
  local pid
  pid=$(cat "$WORKER_PID")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'bin/worker' || return 1
  echo "$pid"
}

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
  down)
    stop_worker
    scripts/temporal.sh down
    scripts/postgres.sh down
    ;;
  status)
    if pid=$(worker_pid); then say "worker running (pid $pid)"; else say "worker not running"; fi
    scripts/temporal.sh status || true
    pg_lsclusters 2>/dev/null || true
    ;;
  *) die "usage: $0 up|services|worker|stop-worker|stop-started FILE|down|status" ;;
esac
