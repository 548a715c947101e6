#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the relay, from the distribution's
# `postgresql` package (scripts/setup.sh test installs it). Socket only: no
# TCP port is opened. When run as root the server runs as `postgres` (it
# refuses to run as root).
#
#   scripts/relay-db.sh [start] [DIR]   initdb if needed, start, print export DATABASE_URL='…'
#                                       (eval-able: eval "$(scripts/relay-db.sh)")
#   scripts/relay-db.sh stop [DIR]      stop the cluster (the data stays)
#   scripts/relay-db.sh url [DIR]       print DATABASE_URL
#   scripts/relay-db.sh wipe [DIR]      stop and delete the folder
#
# DIR defaults to target/relay-pg. The database is `kyc`, the user `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."

cmd="${1:-start}"
dir="${2:-${RELAY_PG_DIR:-target/relay-pg}}"
mkdir -p "$(dirname "$dir")"
dir="$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")"
data="$dir/data"
sock="$dir/sock"
log="$dir/postgres.log"

bin="${PG_BIN:-}"
if [ -z "$bin" ]; then
  for v in 15 16 17 14; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bin="/usr/lib/postgresql/$v/bin"; break; fi
  done
fi
if [ -z "$bin" ]; then
  echo "relay-db: PostgreSQL is not installed (scripts/setup.sh test installs it)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
user="$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)"
url="postgres:///kyc?host=$sock&user=$user"

case "$cmd" in
  start)
    mkdir -p "$dir" "$sock"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir" "$sock"
      # Every folder above must be searchable for the server user.
      p="$dir"; while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$data" -U "$user" -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Throwaway data: fsync off. Enough connections for two relay instances.
    if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 30 \
        -o "-c listen_addresses='' -k $sock -c fsync=off -c max_connections=200" start >/dev/null \
        || { tail -20 "$log" >&2; exit 1; }
    fi
    if ! as_pg "$bin/psql" -h "$sock" -U "$user" -d postgres -Atqc "select 1 from pg_database where datname='kyc'" | grep -q 1; then
      as_pg "$bin/createdb" -h "$sock" -U "$user" kyc
    fi
    echo "export DATABASE_URL='$url'"
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ]; then as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; fi
    ;;
  url)
    echo "export DATABASE_URL='$url'"
    ;;
  wipe)
    if [ -f "$data/PG_VERSION" ]; then as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/relay-db.sh [start|stop|url|wipe] [DIR]" >&2
    exit 2
    ;;
esac
