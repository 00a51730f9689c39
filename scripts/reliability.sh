#!/usr/bin/env bash
# Regenerates the reliability figures of docs/RELIABILITY.md: runs tests/Resilience.Chaos (every scenario measures our
# stack and the usual one in the same run) and collects the tables the tests print.
#   bash scripts/reliability.sh                the bounded run (the one CI runs inside scripts/test.sh; a few minutes)
#   bash scripts/reliability.sh --soak         ten times the repetitions and durations (RESILIENCE_CHAOS_SOAK=1)
#   bash scripts/reliability.sh [--soak] FILTER   only the scenarios matching a dotnet test filter, e.g. 'FullyQualifiedName~Database'
# Uses RESILIENCE_PG_CONNECTION when set, else starts a throwaway PostgreSQL (scripts/postgres.sh) and stops it after.
# The tables land in artifacts/reliability/figures.md (and on the console); paste them into docs/RELIABILITY.md with
# the date, the command and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
project=tests/Resilience.Chaos/Resilience.Chaos.csproj

export RESILIENCE_CHAOS_SOAK=0
# The long sweeps (e.g. the 12 s database outage) run here; CI skips them to stay within ten minutes.
export RESILIENCE_LONG_SWEEPS=1
mode=""
if [ "${1:-}" = "--soak" ]; then RESILIENCE_CHAOS_SOAK=1; mode=" --soak"; shift; fi
filter=${1:-}

out="$root/artifacts/reliability"
mkdir -p "$out"
rm -f "$out/figures.md"
export RESILIENCE_CHAOS_REPORT="$out"

pg_dir=""
cleanup() { [ -n "$pg_dir" ] && bash "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -z "${RESILIENCE_PG_CONNECTION:-}" ]; then
  pg_dir=$(mktemp -d -u /tmp/resilience-reliability-pg-XXXXXX)
  RESILIENCE_PG_CONNECTION=$(RESILIENCE_PG_FAST=1 bash scripts/postgres.sh start "$pg_dir" | tail -n 1)
  export RESILIENCE_PG_CONNECTION
fi

dotnet build "$project" -c Release
args=(test "$project" -c Release --no-build --logger "console;verbosity=normal")
[ -n "$filter" ] && args+=(--filter "$filter")
started=$(date +%s)
status=0
dotnet "${args[@]}" || status=$?
elapsed=$(( $(date +%s) - started ))

{
  echo
  echo "_Run: \`bash scripts/reliability.sh$mode${filter:+ '$filter'}\`, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, ${elapsed} s, exit $status._"
} >> "$out/figures.md"
echo "reliability.sh: figures in $out/figures.md (${elapsed} s)"
exit "$status"
