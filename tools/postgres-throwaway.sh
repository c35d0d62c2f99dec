#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests that need a real one (LatentIndigo.Orleans.Tests/Postgres): a new cluster
# in a temporary folder, listening on loopback only, trust authentication, stopped and removed by `stop`.
#
#   source tools/postgres-throwaway.sh start   # exports LATENTINDIGO_TEST_POSTGRES (a connection string) on success
#   tools/postgres-throwaway.sh stop DATADIR    # or: postgres_throwaway_stop (defined by `start`)
#
# `start` installs Debian's postgresql when no server binaries are found (apt-get; root only). When the server cannot be
# had it prints why, leaves LATENTINDIGO_TEST_POSTGRES unset (the tests then skip, naming the reason) and returns 0, so
# CI goes on; LATENTINDIGO_TEST_POSTGRES_SKIP_REASON holds the reason.
# Meant to be sourced: it must not change the caller's shell options.

_pg_bindir() {
  local dir
  for dir in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

_pg_fail() {
  export LATENTINDIGO_TEST_POSTGRES_SKIP_REASON="$1"
  unset LATENTINDIGO_TEST_POSTGRES
  echo "postgres-throwaway: $1" >&2
}

postgres_throwaway_start() {
  local bindir
  if ! bindir=$(_pg_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "postgres-throwaway: no PostgreSQL server binaries; installing Debian's postgresql" >&2
      # Installing starts Debian's own cluster on port 5432; ours runs beside it on another port, so leave it be.
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 ||
        { _pg_fail "apt-get install postgresql failed"; return 0; }
      bindir=$(_pg_bindir) || { _pg_fail "postgresql installed but initdb/pg_ctl not found"; return 0; }
    else
      _pg_fail "no PostgreSQL server binaries (initdb, pg_ctl) and not root with apt-get to install them"; return 0
    fi
  fi
  # PostgreSQL refuses to run as root: run it as the postgres user (created by Debian's package) in that case.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { _pg_fail "running as root and there is no 'postgres' user to run the server as"; return 0; }
    as=(runuser -u postgres --)
  fi
  local data port
  data=$(mktemp -d /tmp/latentindigo-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  # A free loopback port: ask the kernel for one.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  if ! "${as[@]}" "$bindir/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --locale=C >"$data/initdb.log" 2>&1; then
    _pg_fail "initdb failed: $(tail -3 "$data/initdb.log" | tr '\n' ' ')"; rm -rf "$data"; return 0
  fi
  # Loopback only; the socket in the data folder (not /var/run/postgresql, which may not exist or belong to another server).
  if ! "${as[@]}" "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c timezone=UTC" start >/dev/null 2>&1; then
    _pg_fail "the server did not start: $(tail -3 "$data/server.log" 2>/dev/null | tr '\n' ' ')"; rm -rf "$data"; return 0
  fi
  if ! "${as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres latentindigo_test 2>"$data/createdb.log"; then
    _pg_fail "createdb failed: $(cat "$data/createdb.log")"
    "${as[@]}" "$bindir/pg_ctl" -D "$data/db" -m immediate stop >/dev/null 2>&1; rm -rf "$data"; return 0
  fi
  export LATENTINDIGO_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=latentindigo_test"
  export LATENTINDIGO_TEST_POSTGRES_DATA="$data"
  unset LATENTINDIGO_TEST_POSTGRES_SKIP_REASON
  echo "postgres-throwaway: PostgreSQL $("$bindir/postgres" -V | awk "{print \$3}") on 127.0.0.1:$port (data in $data)" >&2
}

postgres_throwaway_stop() {
  local data=${1:-${LATENTINDIGO_TEST_POSTGRES_DATA:-}} bindir as=()
  [ -n "$data" ] && [ -d "$data" ] || return 0
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  if bindir=$(_pg_bindir); then
    "${as[@]}" "$bindir/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 ||
      "${as[@]}" "$bindir/pg_ctl" -D "$data/db" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$data"
}

case "${1:-}" in
  start) postgres_throwaway_start ;;
  stop) postgres_throwaway_stop "${2:-}" ;;
  *) echo "usage: source $0 start | $0 stop DATADIR" >&2 ;;
esac
