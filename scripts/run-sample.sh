#!/usr/bin/env bash
# Runs the content service on a throwaway PostgreSQL: starts the database, builds and starts the service on
# 127.0.0.1, prints its URL, and stops and removes everything on Ctrl-C.
#   PORT=5080 (default)            the service's port
#   PROVIDERS_PORT=5090 (default)  the fake LLM/CMS providers' port (fault controls at /faults)
#   PG_DIR (default: a new temporary directory)  where the throwaway PostgreSQL lives (scripts/demo.sh stops and restarts it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port=${PORT:-5080}
providers_port=${PROVIDERS_PORT:-5090}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

pg_dir=${PG_DIR:-$(mktemp -d -u /tmp/resilience-sample-pg-XXXXXX)}
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "run-sample: stopping" >&2
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/postgres.sh start "$pg_dir" >/dev/null
export ConnectionStrings__ContentDb
ConnectionStrings__ContentDb=$(cat "$pg_dir/connection-string")

dotnet build samples/ContentService/ContentService.csproj -c Release --nologo -v quiet
dotnet build samples/FakeProviders/FakeProviders.csproj -c Release --nologo -v quiet
providers="http://127.0.0.1:$providers_port"
dotnet run --project samples/FakeProviders/FakeProviders.csproj -c Release --no-build --no-launch-profile -- --urls "$providers" &
pids+=($!)
export Providers__BaseUrl="$providers"
url="http://127.0.0.1:$port"
dotnet run --project samples/ContentService/ContentService.csproj -c Release --no-build --no-launch-profile -- --urls "$url" &
pids+=($!)

for _ in $(seq 1 60); do
  if curl -fsS "$url/health/live" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
echo
echo "Content service: $url   (health: $url/health/ready)"
echo "Fake providers:  $providers   (inject faults: curl -X PUT $providers/faults/llm-primary -H 'content-type: application/json' -d '{\"errorRate\":1}')"
echo "Ctrl-C stops everything and removes the database."
wait "${pids[0]}"
