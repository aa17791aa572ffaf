#!/usr/bin/env bash
# A private PostgreSQL for the explain cluster on this machine (Debian's postgresql 15), in its own data folder and
# port, so that it neither needs nor touches a system-wide server.
#
#   scripts/cluster/postgres.sh start   # installs postgresql with apt when missing (root), creates and starts the
#                                       # server, the database "clrp" and the cluster schema; prints the connection string
#   scripts/cluster/postgres.sh stop    # stops it (the data stays)
#   scripts/cluster/postgres.sh reset   # stops it and deletes its data
#   scripts/cluster/postgres.sh url     # prints the connection string
#
# Environment: CLRP_PG_DIR (default /tmp/clrp-postgres), CLRP_PG_PORT (default 55432). The server listens on 127.0.0.1
# only and trusts local connections: a test and single-machine setup. For several machines use a managed PostgreSQL and
# run the schema (Samples/Clrp.Cluster/Sql/clrp-orleans-postgresql.sql) on it with psql.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${CLRP_PG_DIR:-/tmp/clrp-postgres}"
port="${CLRP_PG_PORT:-55432}"
schema="$repo/Samples/Clrp.Cluster/Sql/clrp-orleans-postgresql.sql"
url="Host=127.0.0.1;Port=$port;Database=clrp;Username=clrp;Password=clrp;Pooling=true"

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  if [ -z "$(bin_dir)" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "postgres.sh: PostgreSQL is not installed; install Debian's 'postgresql' package (apt-get install postgresql)." >&2
      return 1
    fi
    echo "postgres.sh: installing postgresql with apt-get" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

# Runs a server binary as the owner of the data folder: PostgreSQL refuses to run as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_run() { "$(bin_dir)/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }

start() {
  install
  local bin; bin="$(bin_dir)"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c timezone=UTC -c max_connections=200" start >/dev/null
  fi
  if [ "$(psql_run -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'clrp'")" != "1" ]; then
    psql_run -d postgres -c "CREATE ROLE clrp LOGIN PASSWORD 'clrp'"
  fi
  if [ "$(psql_run -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'clrp'")" != "1" ]; then
    psql_run -d postgres -c "CREATE DATABASE clrp OWNER clrp"
  fi
  PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -h 127.0.0.1 -p "$port" -U clrp -d clrp -v ON_ERROR_STOP=1 -q -f "$schema" >/dev/null
  echo "$url"
}

stop() {
  local bin; bin="$(bin_dir)"
  if [ -n "$bin" ] && [ -f "$dir/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$dir" ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|reset|url" >&2; exit 2 ;;
esac
