#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on the loopback address, with Agent Turbo's role and database.
# When none answers and this is a Debian machine where we are root, it installs Debian's `postgresql`
# package, starts the cluster and creates the role and database. Idempotent: run it as often as you like.
#
#   db/postgres.sh            ensure the server, the role and the database
#   db/postgres.sh --test     the same, plus the CREATEDB right the test suite needs for its throw-away databases
#
# Settings (environment): PGHOST (127.0.0.1), PGPORT (5432), AGENTTURBO_DB_NAME (agentturbo),
# DB_USER (agentturbo), DB_PASSWORD (agentturbo).
set -euo pipefail

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
db_name=${AGENTTURBO_DB_NAME:-agentturbo}
db_user=${DB_USER:-agentturbo}
db_password=${DB_PASSWORD:-agentturbo}
for_tests=false
fresh=false
[[ "${1:-}" == "--test" ]] && for_tests=true

log() { printf '[postgres] %s\n' "$*" >&2; }

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

reachable() { command -v pg_isready >/dev/null && pg_isready -q -h "$host" -p "$port"; }

if ! reachable; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
      log "no PostgreSQL answers on $host:$port and this script can only install one as root on Debian."
      log "Install PostgreSQL 13 or newer, or point DB_URL at one, then run again."
      exit 1
    fi
    log "installing PostgreSQL (Debian package 'postgresql')"
    fresh=true
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$version main$"; then
    log "creating cluster $version/main"
    fresh=true
    pg_createcluster "$version" main >/dev/null
  fi
  if $fresh; then
    # A queue table is rewritten all day: let autovacuum look at it every 10 s instead of every minute
    # (docs/ARCHITECTURE.md, "Keeping claims fast"). Only on a server this script installed or created.
    echo "autovacuum_naptime = 10s" > "/etc/postgresql/$version/main/conf.d/agent-turbo.conf"
  fi
  log "starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do reachable && break; sleep 1; done
  reachable || { log "PostgreSQL $version did not start; see /var/log/postgresql/"; exit 1; }
fi

if [[ $(id -u) -eq 0 ]] && id postgres >/dev/null 2>&1; then
  # The role and the database, created once (local socket, as the postgres superuser).
  role_exists=$(as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname = '$db_user'\"")
  if [[ "$role_exists" != "1" ]]; then
    log "creating role $db_user"
    as_postgres "psql -p $port -q -c \"CREATE ROLE \\\"$db_user\\\" LOGIN PASSWORD '$db_password'\""
  fi
  if $for_tests; then
    # the tests make throw-away databases of their own, and the Arquillian tests use a fresh agentturbo_it
    as_postgres "psql -p $port -q -c 'ALTER ROLE \"$db_user\" CREATEDB'"
    as_postgres "PGOPTIONS=--client-min-messages=warning psql -p $port -q -c 'DROP DATABASE IF EXISTS agentturbo_it WITH (FORCE)'"
    as_postgres "psql -p $port -q -c 'CREATE DATABASE agentturbo_it OWNER \"$db_user\"'"
  fi
  db_exists=$(as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname = '$db_name'\"")
  if [[ "$db_exists" != "1" ]]; then
    log "creating database $db_name"
    as_postgres "psql -p $port -q -c 'CREATE DATABASE \"$db_name\" OWNER \"$db_user\"'"
  fi
fi
log "ready: jdbc:postgresql://$host:$port/$db_name (user $db_user)"
