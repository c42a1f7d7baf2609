#!/usr/bin/env bash
# A production-shaped Temporal on this machine, from the module proxy alone:
# frontend, history, matching and worker as four processes (real membership),
# persistence and visibility in their own PostgreSQL databases (never
# tiershift's), 8 history shards, each service's Prometheus endpoint, the
# standalone Web UI, and the default namespace with tiershift's search
# attributes and a retention.
#
#   scripts/cluster.sh build   build bin/temporal-server, bin/temporal-sql-tool, bin/temporal-ui-server (one-time)
#   scripts/cluster.sh up      create the databases and schemas, start the cluster and the UI
#   scripts/cluster.sh down    stop what `up` started (by the PIDs it recorded)
#
# TIERSHIFT_STARTED_LOG, if set, names a file to which `up` appends "cluster"
# when it started any service (scripts/stack.sh stop-started then stops it).
#
# Everything lives in .dev/cluster/ (configs, logs, PIDs; CLUSTER_DIR, a path
# relative to the repository, moves it). Ports and names can be changed with
# the variables below, so a second cluster (scripts/bench.sh's) can run
# beside make's; docker-compose.yml mirrors this file's
# versions, dynamic config and search attributes (internal/deploytest checks).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_SERVER_VERSION=v1.29.1
TEMPORAL_UI_VERSION=v2.42.1
DIR=${CLUSTER_DIR:-.dev/cluster}
BIN=$PWD/bin
HOST=${CLUSTER_HOST:-127.0.0.1}
BASE=${CLUSTER_PORT_BASE:-7240}          # frontend gRPC; the others follow it
UI_PORT=${CLUSTER_UI_PORT:-8240}
METRICS_BASE=${CLUSTER_METRICS_BASE:-8241}  # frontend, history, matching, worker
SHARDS=${CLUSTER_HISTORY_SHARDS:-8}
# CLUSTER_PPROF_BASE, when set, has each service serve Go's pprof on
# localhost:base+index (frontend, history, matching, worker), for profiling the
# server under load (BENCHMARKS.md); off by default, as in production.
PPROF_BASE=${CLUSTER_PPROF_BASE:-}
RETENTION=${CLUSTER_RETENTION:-720h}      # 30 days after a transition closes
DB_USER=${CLUSTER_DB_USER:-temporal}
DB_PASSWORD=${CLUSTER_DB_PASSWORD:-temporal}
DB_HOST=${CLUSTER_DB_HOST:-127.0.0.1}
DB_PORT=${CLUSTER_DB_PORT:-5432}
DB=${CLUSTER_DB:-temporal}
VISIBILITY_DB=${CLUSTER_VISIBILITY_DB:-temporal_visibility}
DYNAMIC_CONFIG=deploy/temporal/dynamicconfig/tiershift.yaml
SERVICES=(frontend history matching worker)
FRONTEND=$HOST:$BASE
# The numbers above go into port arithmetic and the server's config, where
# a typo would silently become another port; refuse it by name instead.
for v in CLUSTER_PORT_BASE CLUSTER_UI_PORT CLUSTER_METRICS_BASE CLUSTER_HISTORY_SHARDS CLUSTER_DB_PORT CLUSTER_PPROF_BASE; do
	[[ -z ${!v:-} || ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$v=${!v}: want a whole number > 0" >&2; exit 2; }
done
# CLUSTER_TLS=1: the frontend requires mTLS (certificates made by
# internal/certtest/cmd/devcerts in $DIR/tls at each fresh start); every
# client, the cluster's own worker service, the UI and the CLI calls here
# present the client certificate.
TLS=${CLUSTER_TLS:-0}
TLS_DIR=$PWD/$DIR/tls

# build: go install into a directory of its own (the server and the UI are
# both called "server"), then rename; prints a line every 30 s meanwhile.
build() {
	local gobin=$DIR/gobin
	mkdir -p "$gobin" "$BIN"
	if [ -x "$BIN/temporal-server" ] && [ -x "$BIN/temporal-sql-tool" ] && [ -x "$BIN/temporal-ui-server" ]; then
		return 0
	fi
	echo "building Temporal server $TEMPORAL_SERVER_VERSION, its SQL tool and UI server $TEMPORAL_UI_VERSION into bin/ (one-time; about 10 CPU-minutes)..."
	local start=$SECONDS
	( while sleep 30; do echo "  still building... $((SECONDS - start)) s"; done ) &
	local ticker=$!
	trap 'kill $ticker 2>/dev/null' RETURN
	GOBIN=$PWD/$gobin go install -v go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION
	mv "$gobin/server" "$BIN/temporal-server"; mv "$gobin/sql" "$BIN/temporal-sql-tool"
	GOBIN=$PWD/$gobin go install -v github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION
	mv "$gobin/server" "$BIN/temporal-ui-server"
	echo "built the cluster's binaries in $((SECONDS - start)) s"
}

# psql_super_db DB SQL, as the superuser; psql_super SQL in its own database.
psql_super_db() { su postgres -c "psql -v ON_ERROR_STOP=1 -Atq -d $1 -c \"$2\""; }
psql_super() { psql_super_db postgres "$1"; }

databases() {
	if ! psql_super "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'" | grep -q 1; then
		psql_super "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'"
	fi
	for db in $DB $VISIBILITY_DB; do
		if ! psql_super "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
			psql_super "CREATE DATABASE $db OWNER $DB_USER"
		fi
	done
	local schemas
	schemas=$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12
	[ -d "$schemas" ] || go mod download go.temporal.io/server@$TEMPORAL_SERVER_VERSION
	for pair in "$DB:temporal" "$VISIBILITY_DB:visibility"; do
		local db=${pair%%:*} dir=${pair#*:}
		local sql=("$BIN/temporal-sql-tool" --plugin postgres12 --ep "$DB_HOST" -p "$DB_PORT" -u "$DB_USER" --pw "$DB_PASSWORD" --db "$db")
		"${sql[@]}" setup-schema -v 0.0 >/dev/null 2>&1 || true   # a no-op once versioned
		"${sql[@]}" update-schema -d "$schemas/$dir/versioned" >"$DIR/schema-$db.log" 2>&1 \
			|| { echo "schema of $db failed; see $DIR/schema-$db.log" >&2; exit 1; }
	done
}

# config SERVICE INDEX: one config directory per process, so each has its
# own metrics port; every process lists all four services' ports.
config() {
	local svc=$1 i=$2 d=$DIR/config/$1
	mkdir -p "$d"
	cat >"$d/cluster.yaml" <<YAML
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: $SHARDS
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: $DB
        connectAddr: "$DB_HOST:$DB_PORT"
        connectProtocol: tcp
        user: $DB_USER
        password: "$DB_PASSWORD"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: $VISIBILITY_DB
        connectAddr: "$DB_HOST:$DB_PORT"
        connectProtocol: tcp
        user: $DB_USER
        password: "$DB_PASSWORD"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$HOST"
$(tls_config)
$( [ -n "$PPROF_BASE" ] && printf '  pprof:\n    port: %d\n' $((PPROF_BASE + i)) )
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "$HOST:$((METRICS_BASE + i))"
services:
  frontend:
    rpc: {grpcPort: $BASE, membershipPort: $((BASE + 1)), httpPort: $((BASE + 2)), bindOnIP: "$HOST"}
  history:
    rpc: {grpcPort: $((BASE + 3)), membershipPort: $((BASE + 4)), bindOnIP: "$HOST"}
  matching:
    rpc: {grpcPort: $((BASE + 5)), membershipPort: $((BASE + 6)), bindOnIP: "$HOST"}
  worker:
    rpc: {grpcPort: $((BASE + 7)), membershipPort: $((BASE + 8)), bindOnIP: "$HOST"}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$FRONTEND"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "$PWD/$DYNAMIC_CONFIG"
  pollInterval: 10s
YAML
}

# await_cluster_metadata SERVICE: on fresh databases every service writes
# the cluster's metadata record as it starts, and the ones that lose the
# race exit (duplicate key). So the first one started writes it alone, and
# the others start once it is there.
await_cluster_metadata() {
	local n
	for _ in $(seq 1 60); do
		n=$(psql_super_db "$DB" "SELECT count(*) FROM cluster_metadata_info" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt 0 ] && return 0
		running "$DIR/pid/$1" || { echo "the $1 service exited; see $DIR/log/$1.log" >&2; exit 1; }
		sleep 1
	done
	echo "the $1 service wrote no cluster metadata in 60 s; see $DIR/log/$1.log" >&2
	exit 1
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

tls_config() {
	[ "$TLS" = 1 ] || return 0
	cat <<YAML
  tls:
    frontend:
      server:
        certFile: $TLS_DIR/server.pem
        keyFile: $TLS_DIR/server-key.pem
        requireClientAuth: true
        clientCaFiles: [$TLS_DIR/ca.pem]
      client:
        serverName: localhost
        rootCaFiles: [$TLS_DIR/ca.pem]
    systemWorker:
      certFile: $TLS_DIR/client.pem
      keyFile: $TLS_DIR/client-key.pem
      client:
        serverName: localhost
        rootCaFiles: [$TLS_DIR/ca.pem]
YAML
}

# The CLI, with the client certificate when the frontend requires one.
tcli() {
	if [ "$TLS" = 1 ]; then
		"$BIN/temporal" "$@" --tls-cert-path "$TLS_DIR/client.pem" --tls-key-path "$TLS_DIR/client-key.pem" --tls-ca-path "$TLS_DIR/ca.pem"
	else
		"$BIN/temporal" "$@"
	fi
}

# A running cluster is reused only in the TLS mode it was started in.
check_mode() {
	local have=0 svc
	for svc in "${SERVICES[@]}"; do running "$DIR/pid/$svc" && have=1; done
	if [ $have = 1 ]; then
		if [ "$(cat "$DIR/tls-mode" 2>/dev/null || echo 0)" != "$TLS" ]; then
			echo "the cluster runs with CLUSTER_TLS=$(cat "$DIR/tls-mode" 2>/dev/null || echo 0); stop it first (make cluster-down)" >&2
			exit 1
		fi
	else
		echo "$TLS" >"$DIR/tls-mode"
		if [ "$TLS" = 1 ]; then go run ./internal/certtest/cmd/devcerts "$TLS_DIR"; fi
	fi
}

up() {
	build
	mkdir -p "$DIR/log" "$DIR/pid"
	check_mode
	databases
	local i=0 started=0
	for svc in "${SERVICES[@]}"; do
		config "$svc" $i
		if ! running "$DIR/pid/$svc"; then
			started=1
			"$BIN/temporal-server" --root "$PWD" --config "$DIR/config/$svc" --env cluster start --service "$svc" \
				>"$DIR/log/$svc.log" 2>&1 &
			echo $! >"$DIR/pid/$svc"
			await_cluster_metadata "$svc"
		fi
		i=$((i + 1))
	done
	echo -n "waiting for the frontend at $FRONTEND"
	for _ in $(seq 1 120); do
		if tcli operator cluster health --address "$FRONTEND" >/dev/null 2>&1; then break; fi
		echo -n .; sleep 1
	done
	echo
	tcli operator cluster health --address "$FRONTEND" >/dev/null || { echo "the frontend did not come up; see $DIR/log/" >&2; exit 1; }
	# The default namespace; the worker service's system namespace needs a
	# moment, so retry.
	for _ in $(seq 1 60); do
		if tcli operator namespace describe --address "$FRONTEND" --namespace default >/dev/null 2>&1; then break; fi
		tcli operator namespace create --address "$FRONTEND" --namespace default --retention "$RETENTION" >/dev/null 2>&1 || sleep 1
	done
	local args=()
	while IFS='=' read -r name typ; do
		name=${name%%#*}; name=$(echo "$name" | tr -d '[:space:]'); typ=$(echo "${typ%%#*}" | tr -d '[:space:]')
		[ -n "$name" ] && args+=(--name "$name" --type "$typ")
	done <deploy/search-attributes.txt
	for _ in $(seq 1 30); do
		tcli operator search-attribute create --address "$FRONTEND" --namespace default "${args[@]}" >/dev/null 2>&1 && break
		sleep 1
	done
	if ! running "$DIR/pid/ui"; then
		mkdir -p "$DIR/config/ui"
		cat >"$DIR/config/ui/cluster.yaml" <<YAML
temporalGrpcAddress: "$FRONTEND"
host: "$HOST"
port: $UI_PORT
enableUi: true
defaultNamespace: default
cors:
  allowOrigins: ["http://$HOST:$UI_PORT"]
$( [ "$TLS" = 1 ] && printf 'tls:\n  caFile: %s\n  certFile: %s\n  keyFile: %s\n  serverName: localhost\n' "$TLS_DIR/ca.pem" "$TLS_DIR/client.pem" "$TLS_DIR/client-key.pem" )
YAML
		"$BIN/temporal-ui-server" --root "$PWD" --config "$DIR/config/ui" --env cluster start >"$DIR/log/ui.log" 2>&1 &
		echo $! >"$DIR/pid/ui"
	fi
	# make test-cluster stops, when it ends, a cluster that it started.
	if [ $started = 1 ] && [ -n "${TIERSHIFT_STARTED_LOG:-}" ]; then echo "cluster" >>"$TIERSHIFT_STARTED_LOG"; fi
	[ "$TLS" = 1 ] && echo "mTLS: TEMPORAL_TLS_SERVER_CA_CERT_PATH=$TLS_DIR/ca.pem TEMPORAL_TLS_CLIENT_CERT_PATH=$TLS_DIR/client.pem TEMPORAL_TLS_CLIENT_KEY_PATH=$TLS_DIR/client-key.pem"
	echo "Temporal cluster: frontend $FRONTEND (TEMPORAL_ADDRESS=$FRONTEND), $SHARDS history shards, metrics on $HOST:$METRICS_BASE-$((METRICS_BASE + 3))"
	echo "Temporal Web UI: http://$HOST:$UI_PORT"
}

down() {
	for p in ui "${SERVICES[@]}"; do
		if running "$DIR/pid/$p"; then
			local pid
			pid=$(cat "$DIR/pid/$p")
			kill "$pid"
			for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		fi
		rm -f "$DIR/pid/$p"
	done
	echo "cluster stopped (databases $DB and $VISIBILITY_DB kept)"
}

case "${1:-}" in
build) build ;;
up) up ;;
down) down ;;
*) echo "usage: $0 build|up|down" >&2; exit 2 ;;
esac
