#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, the benchmarks, and trying the PostgreSQL
# store by hand.
#
#   scripts/test-postgres.sh start DIR [--tcp] [--durable]
#                                        initdb into DIR/data and start postgres; prints
#                                        the base URL (also written to DIR/url)
#   scripts/test-postgres.sh stop DIR    stop it and remove DIR
#
# By default postgres listens only on a Unix socket in DIR (no TCP port, so parallel runs
# never collide) and runs without fsync: a crashed test cluster is discarded, never
# recovered. Options:
#   --tcp      listen on 127.0.0.1 on a free port instead (the URL names it), as a
#              database on another machine would be reached; the socket stays in DIR
#   --durable  the settings an operator would run the store with (scripts/bench-postgres.sh
#              and docs/OPERATIONS.md): fsync and full-page writes on, synchronous commit
#              on (a PushAck is on disk), 1 GB shared buffers, 4 GB between checkpoints
#
# The cluster trusts local connections from the `outreach` role (a superuser, so each test
# may CREATE DATABASE its own). initdb and postgres refuse to run as root: as root they run
# as the `postgres` user, which owns DIR. Missing packages are installed first
# (scripts/install-deps.sh).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  echo "usage: $0 start DIR [--tcp] [--durable] | stop DIR" >&2
  exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
tcp=0
durable=0
for opt in "$@"; do
  case "$opt" in
    --tcp) tcp=1 ;;
    --durable) durable=1 ;;
    *) usage ;;
  esac
done

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port on 127.0.0.1 that nothing listens on (bash's /dev/tcp: a refused connect).
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "test-postgres: no free TCP port found on 127.0.0.1" >&2
  return 1
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
    settings="-k $dir -c max_connections=300"
    if [ "$durable" -eq 1 ]; then
      settings="$settings -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
      settings="$settings -c shared_buffers=1GB -c max_wal_size=4GB -c checkpoint_timeout=15min"
    else
      settings="$settings -c fsync=off -c full_page_writes=off"
    fi
    if [ "$tcp" -eq 1 ]; then
      port=$(free_port)
      settings="$settings -c listen_addresses=127.0.0.1 -p $port"
      url="postgresql://outreach@127.0.0.1:$port/postgres"
    else
      settings="$settings -c listen_addresses=''"
      url="postgresql://outreach@/postgres?host=$dir"
    fi
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "$settings" start >/dev/null || {
      cat "$dir/postgres.log" >&2
      exit 1
    }
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
