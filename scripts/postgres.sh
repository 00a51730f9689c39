#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and the sample, from Debian's packages.
#
#   scripts/postgres.sh install          install PostgreSQL 15 with apt-get when it is missing
#   scripts/postgres.sh start DIR        create a cluster in DIR (empty or missing), start it on 127.0.0.1 on a
#                                        free port; writes DIR/connection-string and prints it as the last line
#   scripts/postgres.sh stop DIR         stop the server and delete DIR
#   scripts/postgres.sh pause DIR        stop the server, keep the data (tests of "database down")
#   scripts/postgres.sh resume DIR       start a paused server again on the same port
#   scripts/postgres.sh restart DIR      pg_ctl restart -m fast (fault tests: every backend ends, the server comes back)
#
# TCP is password-authenticated (scram-sha-256) and listens on 127.0.0.1 only; the unix socket lives in DIR.
#
# Durable by default (fsync, synchronous_commit and full_page_writes on): an acknowledged write survives a crash.
# RESILIENCE_PG_FAST=1 at "start" turns the three off for a cluster whose data may be lost (the test suite's shared
# server: faster, and a crash there loses only test data); DIR remembers the choice for resume and restart.
set -euo pipefail

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
DB_NAME=resilience
DB_USER=resilience

log() { echo "postgres.sh: $*" >&2; }

install_postgres() {
  [ -x "$PG_BIN/initdb" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL $PG_VERSION is not installed and this is not root. Fix: sudo apt-get update && sudo apt-get install -y postgresql-$PG_VERSION"
    exit 1
  fi
  log "installing postgresql-$PG_VERSION with apt-get"
  # Debian's package would create and start a default cluster; we only want the binaries.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/resilience-no-main.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "postgresql-$PG_VERSION" >&2
}

# Runs a command as the cluster's owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    local cmd
    printf -v cmd '%q ' "$@"
    su postgres -s /bin/bash -c "$cmd"
  else
    "$@"
  fi
}

free_port() {
  local p
  for p in $(shuf -i 20000-59999 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  log "no free port found"; return 1
}

start_server() {
  local dir=$1 port=$2 durability=""
  [ -f "$dir/fast" ] && durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 $durability" \
    start >&2
}

cmd_start() {
  local dir=${1:?usage: postgres.sh start DIR}
  install_postgres
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  chmod 700 "$dir"
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  echo "$password" > "$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pwfile"
  # A fast cluster is initialised without the final fsync too (1.5-2 s of each of the tests' throwaway clusters on a
  # loaded machine): its data may be lost anyway. A durable one keeps it.
  local sync=()
  [ "${RESILIENCE_PG_FAST:-0}" = 1 ] && sync=(--no-sync)
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --no-locale --pwfile="$dir/pwfile" "${sync[@]}" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  if [ "${RESILIENCE_PG_FAST:-0}" = 1 ]; then touch "$dir/fast"; log "fast, non-durable settings (RESILIENCE_PG_FAST=1)"; fi
  local port attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    if start_server "$dir" "$port"; then break; fi
    log "start on port $port failed (attempt $attempt)"; [ "$attempt" -eq 3 ] && { cat "$dir/server.log" >&2; exit 1; }
  done
  echo "$port" > "$dir/port"
  as_owner "$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
SQL
  local cs="Host=127.0.0.1;Port=$port;Database=$DB_NAME;Username=$DB_USER;Password=$password"
  echo "$cs" > "$dir/connection-string"
  chmod 644 "$dir/connection-string"
  log "PostgreSQL $PG_VERSION running on 127.0.0.1:$port (data in $dir)"
  echo "$cs"
}

cmd_pause() { as_owner "$PG_BIN/pg_ctl" -D "${1:?usage: postgres.sh pause DIR}/data" -m fast -w stop >&2; }
cmd_resume() { local dir=${1:?usage: postgres.sh resume DIR}; start_server "$dir" "$(cat "$dir/port")"; }
# pg_ctl restart keeps the options the server was started with (postmaster.opts).
cmd_restart() { local dir=${1:?usage: postgres.sh restart DIR}; as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >&2; }

cmd_stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install_postgres ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  pause) cmd_pause "${2:-}" ;;
  resume) cmd_resume "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  *) echo "usage: $0 install|start DIR|stop DIR|pause DIR|resume DIR|restart DIR" >&2; exit 2 ;;
esac
