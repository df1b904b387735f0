#!/usr/bin/env bash
# Runs an outreach-bench scenario with the server's store on PostgreSQL, in one command.
#
#   scripts/bench-postgres.sh [--bench PATH] [--cluster DIR] SCENARIO [OPTIONS...]
#
# e.g. scripts/bench-postgres.sh dayend --size full
#
# Without --cluster it starts a throwaway PostgreSQL of its own (scripts/test-postgres.sh
# start --tcp --durable: 127.0.0.1 on a free port, fsync and synchronous commit on, the
# settings docs/OPERATIONS.md describes), creates an empty database, runs
# `outreach-bench SCENARIO OPTIONS... --store postgresql://...` and stops the cluster,
# whatever the outcome. With --cluster DIR it uses the cluster already running in DIR
# (e.g. the test suite's, whose URL is in DIR/url) and drops its database afterwards.
#
# --bench names the outreach-bench binary (default: $BUILD_DIR/bench/scenarios/outreach-bench,
# BUILD_DIR defaulting to build-bench, the Release build of docs/PERFORMANCE.md).
# The scenario's table is printed as outreach-bench prints it, after one line naming the
# PostgreSQL version and the settings that matter for the figures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
bench="$root/${BUILD_DIR:-build-bench}/bench/scenarios/outreach-bench"
cluster=""

usage() {
  echo "usage: $0 [--bench PATH] [--cluster DIR] SCENARIO [OPTIONS...]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) [ $# -ge 2 ] || usage; bench=$2; shift 2 ;;
    --cluster) [ $# -ge 2 ] || usage; cluster=$2; shift 2 ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
[ -x "$bench" ] || {
  echo "bench-postgres: no outreach-bench at $bench (build it, or give --bench PATH)" >&2
  exit 1
}

own=""
database="bench_$$_${RANDOM}"
cleanup() {
  if [ -n "$own" ]; then
    "$here/test-postgres.sh" stop "$own"
  elif [ -n "$cluster" ] && [ -f "$cluster/url" ]; then
    "$PG_BIN/psql" -q -X "$(cat "$cluster/url")" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [ -z "$cluster" ]; then
  own=$(mktemp -d "${TMPDIR:-/tmp}/outreach-bench-pg-XXXXXX")
  "$here/test-postgres.sh" start "$own" --tcp --durable >/dev/null
  cluster=$own
fi
[ -f "$cluster/url" ] || {
  echo "bench-postgres: no running cluster in $cluster (no $cluster/url)" >&2
  exit 1
}
base=$(cat "$cluster/url")
"$PG_BIN/psql" -q -X "$base" -c "CREATE DATABASE $database" >/dev/null
# The base URL names the `postgres` database: name the new one instead.
url=$(echo "$base" | sed -E "s#/postgres(\\?|\$)#/$database\\1#")

settings=$("$PG_BIN/psql" -X -A -t "$url" -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ': ' ||
  string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size',
                 'wal_level', 'listen_addresses', 'port')")
echo "bench-postgres: store $url ($settings)"
"$bench" "$@" --store "$url"
