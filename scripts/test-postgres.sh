#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite (and for trying the PostgreSQL store by hand).
#
#   scripts/test-postgres.sh start DIR   initdb into DIR/data, start postgres listening only
#                                        on a Unix socket in DIR; prints the base URL
#                                        (also written to DIR/url)
#   scripts/test-postgres.sh stop DIR    stop it and remove DIR
#
# The cluster trusts local connections from the `outreach` role (a superuser, so each test
# may CREATE DATABASE its own). No TCP port is opened, so parallel runs never collide.
# initdb and postgres refuse to run as root: as root they run as the `postgres` user,
# which owns DIR. Missing packages are installed first (scripts/install-deps.sh).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if [ ! -x "$PG_BIN/initdb" ]; then
      "$here/install-deps.sh"
    fi
    if [ -d "$dir/data" ]; then  # a cluster left by an interrupted run
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      if ! id postgres >/dev/null 2>&1; then
        echo "test-postgres: running as root needs the 'postgres' user (Debian's postgresql package)" >&2
        exit 1
      fi
      chown postgres: "$dir"
    fi
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U outreach -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    # Throwaway: no fsync (a crashed test cluster is discarded, never recovered).
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir -c max_connections=300 -c fsync=off -c full_page_writes=off" \
      start >/dev/null || {
      cat "$dir/postgres.log" >&2
      exit 1
    }
    url="postgresql://outreach@/postgres?host=$dir"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
