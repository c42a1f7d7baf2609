#!/usr/bin/env bash
# Runs the Temporal development server tiershift uses on a development machine
# or in CI, or checks the one TEMPORAL_ADDRESS names. Idempotent: a server that
# already answers is reused, never restarted.
#   scripts/temporal.sh up      build bin/temporal if missing, start the dev
#                               server in the background, wait until it serves
#                               the namespace and has every search attribute in
#                               deploy/search-attributes.txt
#   scripts/temporal.sh down    stop the server if this script started it
#   scripts/temporal.sh status  say whether it is up (exit 1 if not)
#   scripts/temporal.sh build   only build bin/temporal
#
# Environment:
#   TEMPORAL_ADDRESS    host:port (default localhost:7233). A non-local address
#                       is only checked (and given the search attributes).
#   TEMPORAL_NAMESPACE  namespace to wait for (default "default")
#   TEMPORAL_UI_PORT    Web UI port (default the gRPC port + 1000: 8233)
#   TEMPORAL_DB_FILE    SQLite file (default .dev/temporal.db); set it empty
#                       (TEMPORAL_DB_FILE=) for an in-memory server
#   TEMPORAL_WAIT       seconds to wait for health (default 60)
#   TEMPORAL_EXTRA_ARGS more flags for `server start-dev`
#   TIERSHIFT_STARTED_LOG  if set, `up` appends "temporal ADDRESS" to this file
#                       when it starts a server (not when it reuses one), so
#                       the caller (make test) stops exactly what it started
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev

CLI_VERSION=v1.5.1
TEMPORAL=${TEMPORAL_BIN:-$PWD/bin/temporal}
ADDR=${TEMPORAL_ADDRESS:-localhost:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
WAIT=${TEMPORAL_WAIT:-60}
ATTRS_FILE=deploy/search-attributes.txt
HOST=${ADDR%:*}
PORT=${ADDR##*:}
# One pid and log file per port, so a second server (another TEMPORAL_ADDRESS)
# never takes over the first one's files.
if [ "$PORT" = 7233 ]; then SUFFIX=""; else SUFFIX="-$PORT"; fi
LOG=.dev/temporal$SUFFIX.log
PIDFILE=.dev/temporal$SUFFIX.pid
UI_PORT=${TEMPORAL_UI_PORT:-$((PORT + 1000))}
DB_FILE=${TEMPORAL_DB_FILE-.dev/temporal$SUFFIX.db}

die() { echo "temporal: $*" >&2; exit 1; }
say() { echo "temporal: $*"; }

local_addr() { case "$HOST" in localhost | 127.0.0.1 | 0.0.0.0 | "") return 0 ;; *) return 1 ;; esac; }

build() {
  [ -x "$TEMPORAL" ] && return 0
  command -v go >/dev/null 2>&1 || die "go is not installed; it is needed to build the Temporal CLI"
  say "building the Temporal CLI $CLI_VERSION into bin/ (one-time: about 2.5-3.5 minutes on 2 cores)..."
  local start=$SECONDS
  # Not a dependency in go.mod: the CLI's module graph conflicts with the SDK
  # version tiershift uses, so it is installed on its own.
  GOBIN="$(dirname "$TEMPORAL")" GOFLAGS=-buildvcs=false \
    go install "github.com/temporalio/cli/cmd/temporal@$CLI_VERSION" \
    || die "could not build the Temporal CLI (needs the Go module proxy)"
  say "built $TEMPORAL in $((SECONDS - start))s"
}

cli() { "$TEMPORAL" "$@" --address "$ADDR" --color never --command-timeout 5s; }

healthy() { cli operator cluster health >/dev/null 2>&1; }

namespace_ready() { cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; }

# our_pid prints the pid of the server this script started, if it still runs.
our_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'server start-dev' || return 1
  echo "$pid"
}

# required prints NAME TYPE for every search attribute the code needs.
required() {
  [ -f "$ATTRS_FILE" ] || die "$ATTRS_FILE is missing"
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$ATTRS_FILE" | awk -F= 'NF == 2 && $1 != "" {print $1, $2}'
}

# enum_type turns Keyword / KeywordList into INDEXED_VALUE_TYPE_KEYWORD(_LIST).
enum_type() { echo "INDEXED_VALUE_TYPE_$(sed -E 's/([a-z])([A-Z])/\1_\2/g' <<<"$1" | tr '[:lower:]' '[:upper:]')"; }

# missing_attributes prints NAME TYPE for every required attribute the server
# lacks, and fails if one exists with another type.
missing_attributes() {
  local have name type got
  have=$(cli operator search-attribute list --namespace "$NAMESPACE" -o json 2>&1) \
    || die "cannot list search attributes at $ADDR: $have"
  while read -r name type; do
    got=$(grep -Eo "\"$name\": *\"[A-Z_]+\"" <<<"$have" | sed -E 's/.*: *"([A-Z_]+)"/\1/' || true)
    if [ -z "$got" ]; then
      echo "$name $type"
    elif [ "$got" != "$(enum_type "$type")" ]; then
      die "search attribute $name is $got on $ADDR but $ATTRS_FILE wants $type; use a fresh server (TEMPORAL_DB_FILE) or fix it by hand"
    fi
  done < <(required)
}

ensure_search_attributes() {
  local missing name type
  missing=$(missing_attributes)
  [ -z "$missing" ] && return 0
  while read -r name type; do
    say "creating search attribute $name ($type)"
    local out
    out=$(cli operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1) \
      || die "could not create search attribute $name=$type: $(tail -n 3 <<<"$out")"
  done <<<"$missing"
  # Visibility caches the list; wait until every attribute shows up.
  local deadline=$((SECONDS + WAIT))
  until [ -z "$(missing_attributes)" ]; do
    [ $SECONDS -lt $deadline ] || die "search attributes still missing after ${WAIT}s: $(missing_attributes | tr '\n' ' ')"
    sleep 1
  done
}

wait_ready() {
  local pid=${1:-} deadline=$((SECONDS + WAIT))
  until healthy && namespace_ready; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "temporal: the dev server exited; last lines of $LOG:" >&2
      tail -n 30 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      die "the dev server failed to start (is port $PORT or $UI_PORT taken?)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "temporal: last lines of $LOG:" >&2
      tail -n 30 "$LOG" >&2 || true
      die "not healthy at $ADDR (namespace $NAMESPACE) after ${WAIT}s"
    fi
    sleep 0.5
  done
}

up() {
  build
  if healthy; then
    wait_ready
    ensure_search_attributes
    say "reusing the server at $ADDR (namespace $NAMESPACE)"
    return 0
  fi
  local_addr || die "no Temporal server answers at $ADDR (TEMPORAL_ADDRESS); start it or unset TEMPORAL_ADDRESS to run a local dev server"

  local args=(server start-dev --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT" --log-level warn --namespace "$NAMESPACE")
  if [ -n "$DB_FILE" ]; then
    args+=(--db-filename "$DB_FILE" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal)
  fi
  local name type
  while read -r name type; do args+=(--search-attribute "$name=$type"); done < <(required)
  # Headroom for campaigns that start thousands of workflows at once; the
  # defaults of the dev server throttle bulk starts and visibility queries.
  args+=(
    --dynamic-config-value 'frontend.rps=10000'
    --dynamic-config-value 'frontend.namespaceRPS=10000'
    --dynamic-config-value 'frontend.namespaceRPS.visibility=1000'
    --dynamic-config-value 'system.forceSearchAttributesCacheRefreshOnRead=true'
    # Cohort commands (extend/exempt/withdraw --query) are batch operations:
    # the server's default of one at a time per namespace refuses a second
    # operator's, and make test's concurrent packages.
    --dynamic-config-value 'frontend.MaxConcurrentBatchOperationPerNamespace=10'
  )
  # shellcheck disable=SC2206
  [ -n "${TEMPORAL_EXTRA_ARGS:-}" ] && args+=($TEMPORAL_EXTRA_ARGS)

  say "starting the dev server on $ADDR (UI http://localhost:$UI_PORT, ${DB_FILE:-in-memory}); log $LOG"
  local start=$SECONDS
  nohup "$TEMPORAL" "${args[@]}" >"$LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  [ -z "${TIERSHIFT_STARTED_LOG:-}" ] || echo "temporal $ADDR" >>"$TIERSHIFT_STARTED_LOG"
  wait_ready "$pid"
  ensure_search_attributes
  say "ready at $ADDR in $((SECONDS - start))s (pid $pid)"
}

down() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE"
    say "not started by this script; nothing to stop"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  say "stopped (pid $pid)"
}

status() {
  [ -x "$TEMPORAL" ] || { say "bin/temporal is not built"; return 1; }
  if healthy; then
    local pid
    if pid=$(our_pid); then say "up at $ADDR (pid $pid, started by this script)"; else say "up at $ADDR"; fi
  else
    say "down at $ADDR"
    return 1
  fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  build) build ;;
  *) die "usage: $0 up|down|status|build" ;;
esac
