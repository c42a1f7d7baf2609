#!/usr/bin/env bash
# Brings up the PostgreSQL that tiershift uses on a development machine, or
# checks the one DATABASE_URL names. Idempotent: an already running cluster,
# role or database is reused.
#   scripts/postgres.sh up     start the local cluster and create role + database
#   scripts/postgres.sh down   stop the local cluster if this script started it
# Nothing here stops a cluster it did not start: the end-to-end test's outage
# hits a cluster of its own (internal/pgtest.NewCluster).
#
# TIERSHIFT_STARTED_LOG, if set, names a file to which `up` appends
# "postgres VERSION NAME" when it starts a cluster, so the caller (make test)
# can stop exactly what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .dev

PG_ROLE=${PG_ROLE:-tiershift}
PG_DB=${PG_DB:-tiershift}
PG_VERSION=${PG_VERSION:-}

die() { echo "postgres: $*" >&2; exit 1; }

cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || die "PostgreSQL is not installed. Install it with: apt-get install -y postgresql (or set DATABASE_URL to a running server)"
  local line
  if [ -n "$PG_VERSION" ]; then
    line=$(pg_lsclusters --no-header | awk -v v="$PG_VERSION" '$1==v && !found {print; found=1}')
  else
    # awk, not head: a reader that stops early makes pg_lsclusters die of
    # SIGPIPE, which pipefail turns into a failed start.
    line=$(pg_lsclusters --no-header | awk 'NR == 1')
  fi
  [ -n "$line" ] || die "no PostgreSQL cluster found (pg_lsclusters is empty). Create one with: pg_createcluster 15 main"
  echo "$line"
}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

psql_admin() { as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qtAX "$@"; }

wait_ready() {
  for _ in $(seq 1 60); do
    if pg_isready -q -h localhost -p "$PORT"; then return 0; fi
    sleep 0.5
  done
  die "cluster $VER/$NAME did not become ready on port $PORT; see /var/log/postgresql/postgresql-$VER-$NAME.log"
}

load() {
  read -r VER NAME PORT STATUS _ <<<"$(cluster)"
}

case "${1:-up}" in
  up)
    if [ -n "${DATABASE_URL:-}" ]; then
      command -v psql >/dev/null 2>&1 || die "psql not found: apt-get install -y postgresql-client"
      psql "$DATABASE_URL" -qtAXc 'select 1' >/dev/null || die "cannot connect to DATABASE_URL"
      echo "postgres: using DATABASE_URL"
      exit 0
    fi
    load
    if [ "$STATUS" != online ]; then
      pg_ctlcluster "$VER" "$NAME" start || die "could not start cluster $VER/$NAME; see /var/log/postgresql/postgresql-$VER-$NAME.log"
      echo "$VER $NAME" > .dev/postgres.started
      [ -z "${TIERSHIFT_STARTED_LOG:-}" ] || echo "postgres $VER $NAME" >>"$TIERSHIFT_STARTED_LOG"
    fi
    wait_ready
    if [ "$(psql_admin -c "select 1 from pg_roles where rolname='$PG_ROLE'")" != 1 ]; then
      psql_admin -c "create role $PG_ROLE login password '$PG_ROLE' createdb"
    fi
    if [ "$(psql_admin -c "select 1 from pg_database where datname='$PG_DB'")" != 1 ]; then
      psql_admin -c "create database $PG_DB owner $PG_ROLE"
    fi
    echo "postgres: ready at postgres://$PG_ROLE:$PG_ROLE@localhost:$PORT/$PG_DB"
    ;;
  down)
    if [ -f .dev/postgres.started ]; then
      read -r VER NAME < .dev/postgres.started
      pg_ctlcluster "$VER" "$NAME" stop || true
      rm -f .dev/postgres.started
      echo "postgres: stopped $VER/$NAME"
    fi
    ;;
  *) die "usage: $0 up|down" ;;
esac
