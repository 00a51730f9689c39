#!/usr/bin/env bash
# Runs the content service on a throwaway PostgreSQL with the fake LLM/CMS providers, all on 127.0.0.1: starts the
# database, builds and starts the providers and the service, prints the URLs and a freshly generated API key (given to
# the service through its environment, never written into the repository), and stops and removes everything on Ctrl-C.
#   PORT=5080 (default)            the service's port
#   PROVIDERS_PORT=5090 (default)  the fake providers' port (fault controls at /faults)
#   PG_DIR (default: a new temporary directory)  where the throwaway PostgreSQL lives (scripts/demo.sh stops and restarts it)
#   STATE_FILE=/tmp/resilience-sample.env (default)  where the URLs, the key and the database directory are written
#                                  (mode 600) for scripts/demo.sh; removed on exit
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port=${PORT:-5080}
providers_port=${PROVIDERS_PORT:-5090}
state_file=${STATE_FILE:-/tmp/resilience-sample.env}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

pg_dir=${PG_DIR:-$(mktemp -d -u /tmp/resilience-sample-pg-XXXXXX)}
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "run-sample: stopping" >&2
  # The service first, so it can return in-flight tasks to pending while the database is still up.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  bash "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  rm -f "$state_file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/postgres.sh start "$pg_dir" >/dev/null
export ConnectionStrings__ContentDb
ConnectionStrings__ContentDb=$(cat "$pg_dir/connection-string")

dotnet build samples/FakeProviders/FakeProviders.csproj -c Release --nologo -v quiet
dotnet build samples/ContentService/ContentService.csproj -c Release --nologo -v quiet
providers_bin=$root/samples/FakeProviders/bin/Release/net10.0
service_bin=$root/samples/ContentService/bin/Release/net10.0

# Sign-in: the fake GitHub-like provider and the service share a client id and a secret made for this run only.
export OAuth__ClientId=content-service-sample
OAuth__ClientSecret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
export OAuth__ClientSecret

providers="http://127.0.0.1:$providers_port"
dotnet "$providers_bin/FakeProviders.dll" --contentRoot "$providers_bin" --urls "$providers" &
pids+=($!)

# A new key for this run only: the service keeps its SHA-256, the key itself lives in this shell.
api_key=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
url="http://127.0.0.1:$port"
Providers__BaseUrl="$providers/" Security__ApiKeys__sample="$api_key" \
  dotnet "$service_bin/ContentService.dll" --contentRoot "$service_bin" --urls "$url" &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS "$url/health/live" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "run-sample: the service did not start (see its log above)" >&2; exit 1; fi
  sleep 0.5
done

umask 077
cat > "$state_file" <<STATE
SERVICE_URL=$url
PROVIDERS_URL=$providers
API_KEY=$api_key
PG_DIR=$pg_dir
STATE

cat <<INFO

Content service: $url
  API key (writes): $api_key
  create a task:    curl -s -X POST $url/api/tasks -H 'X-Api-Key: $api_key' -H 'content-type: application/json' -d '{"topic":"circuit breakers"}'
  watch it:         curl -N $url/api/tasks/<id>/events
  metrics:          $url/api/metrics    OpenAPI: $url/openapi/v1.json    readiness: $url/health/ready
  status page:      $url/status         sign in (issues a key): $url/auth/signin
Fake providers:  $providers   (providers: local, budget, premium; CMS: cms)
  break one:        curl -X PUT $providers/faults/local -H 'content-type: application/json' -d '{"outage":true}'
  heal all:         curl -X DELETE $providers/faults
Ctrl-C stops everything and removes the database.
INFO
wait "${pids[1]}"
