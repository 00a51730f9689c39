#!/usr/bin/env bash
# Runs the content service on a throwaway PostgreSQL with the fake LLM/CMS providers, all on 127.0.0.1: starts the
# database, builds and starts the providers and the service, prints the URLs and a freshly generated API key (given to
# the service through its environment, never written into the repository), and stops and removes everything on Ctrl-C.
#   PORT=5080 (default)            the service's port
#   INSTANCES=1 (default)          how many instances of the service; above 1 they listen on PORT+1, PORT+2, …,
#                                  HAProxy (Debian's package, installed here when missing) balances them on PORT, and
#                                  they run as a cluster (Cluster__Enabled=true): shared per-client limits and provider breakers
#   CLUSTER (default: true for INSTANCES>1)  false runs several instances each on its own limits and breakers
#   PROVIDERS_PORT=5090 (default)  the fake providers' port (fault controls at /faults)
#   PROVIDERS_URL_1 … PROVIDERS_URL_9 (default: the fake providers' URL)  where instance i reaches the providers
#                                  (scripts/scale-out.sh puts a proxy there for one instance, to cut it off alone)
#   PG_DIR (default: a new temporary directory)  where the throwaway PostgreSQL lives (scripts/demo.sh stops and restarts it)
#   STATE_FILE=/tmp/resilience-sample.env (default)  where the URLs, the key, the database directory and the instances'
#                                  process ids are written (mode 600) for scripts/demo.sh; removed on exit
# With several instances, one ending (a crash, kill -9) leaves the others serving behind HAProxy; the providers, the load
# balancer or the last instance ending ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port=${PORT:-5080}
providers_port=${PROVIDERS_PORT:-5090}
state_file=${STATE_FILE:-/tmp/resilience-sample.env}
instances=${INSTANCES:-1}
[[ "$instances" =~ ^[1-9]$ ]] || { echo "run-sample: INSTANCES must be 1 to 9, not '$instances'" >&2; exit 2; }
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
  [ -n "${lb_dir:-}" ] && rm -rf "$lb_dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$instances" -gt 1 ] && ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "run-sample: installing haproxy with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy; } >&2 \
      || { echo "run-sample: could not install haproxy" >&2; exit 1; }
    # The package may start its own service where an init system runs; ours runs in the foreground with its own config.
    service haproxy stop >/dev/null 2>&1 || true
  else
    echo "run-sample: INSTANCES=$instances needs haproxy: sudo apt-get update && sudo apt-get install -y haproxy" >&2; exit 1
  fi
fi

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
# One instance listens on PORT itself; several listen on PORT+1… behind HAProxy on PORT.
instance_urls=()
if [ "$instances" -eq 1 ]; then instance_urls=("$url"); else
  for i in $(seq 1 "$instances"); do instance_urls+=("http://127.0.0.1:$((port + i))"); done
fi
# Several instances join a cluster on the database (Cluster:Enabled): each client's limit and the providers' breakers
# are shared; one instance runs alone, exactly as before.
# CLUSTER=false keeps several instances apart (scripts/scale-out.sh's per-instance baseline).
clustered=false; [ "$instances" -gt 1 ] && clustered=true
clustered=${CLUSTER:-$clustered}
[[ "$clustered" =~ ^(true|false)$ ]] || { echo "run-sample: CLUSTER must be true or false, not '$clustered'" >&2; exit 2; }
instance_pids=()
for i in "${!instance_urls[@]}"; do
  own_providers=PROVIDERS_URL_$((i + 1))
  Providers__BaseUrl="${!own_providers:-$providers}/" Security__ApiKeys__sample="$api_key" \
    Cluster__Enabled=$clustered Cluster__InstanceId="instance-$((i + 1))" \
    dotnet "$service_bin/ContentService.dll" --contentRoot "$service_bin" --urls "${instance_urls[$i]}" &
  pids+=($!)
  instance_pids+=($!)
done

lb_dir=""
if [ "$instances" -gt 1 ]; then
  lb_dir=$(mktemp -d /tmp/resilience-sample-lb-XXXXXX)
  {
    cat <<CFG
global
  maxconn 4096
defaults
  mode http
  option httplog
  timeout connect 2s
  # Long enough for a task's event stream (the service sends keep-alives well within it).
  timeout client 5m
  timeout server 5m
  retries 0
frontend content
  bind 127.0.0.1:$port
  default_backend instances
backend instances
  balance roundrobin
  # A browser keeps to one instance (its session cookie); API calls without cookies spread over all of them.
  cookie instance insert indirect nocache httponly
  option httpchk GET /health/live
CFG
    for i in "${!instance_urls[@]}"; do
      echo "  server instance-$((i + 1)) ${instance_urls[$i]#http://} check inter 1s fall 2 rise 1 cookie i$((i + 1))"
    done
  } > "$lb_dir/haproxy.cfg"
  haproxy -c -f "$lb_dir/haproxy.cfg" >/dev/null || { echo "run-sample: invalid HAProxy configuration" >&2; cat "$lb_dir/haproxy.cfg" >&2; exit 1; }
  haproxy -db -f "$lb_dir/haproxy.cfg" &
  pids+=($!)
fi

for _ in $(seq 1 120); do
  ready=1
  for u in "${instance_urls[@]}" "$url"; do curl -fsS "$u/health/live" >/dev/null 2>&1 || { ready=0; break; }; done
  [ "$ready" -eq 1 ] && break
  for pid in "${pids[@]:1}"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "run-sample: the service did not start (see its log above)" >&2; exit 1; fi
  done
  sleep 0.5
done
[ "$ready" -eq 1 ] || { echo "run-sample: the service did not answer within 60 s" >&2; exit 1; }

umask 077
cat > "$state_file" <<STATE
SERVICE_URL=$url
INSTANCE_URLS="${instance_urls[*]}"
PROVIDERS_URL=$providers
API_KEY=$api_key
PG_DIR=$pg_dir
INSTANCE_PIDS="${instance_pids[*]}"
STATE

cat <<INFO

Content service: $url$([ "$instances" -gt 1 ] && echo "   (HAProxy in front of $instances instances: ${instance_urls[*]})")
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
# The load balancer, the only instance or the last one ending ends the run, and the trap stops the rest; with several
# instances one ending alone leaves the others serving (HAProxy's health check takes it out of the rotation).
watched=("${pids[@]:1}")
while :; do
  ended=
  wait -n -p ended "${watched[@]}" || true
  [ -n "$ended" ] || break
  left=() alive=0
  for pid in "${watched[@]}"; do [ "$pid" = "$ended" ] || left+=("$pid"); done
  watched=("${left[@]}")
  for pid in "${instance_pids[@]}"; do [ "$pid" != "$ended" ] && kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  if [ "$instances" -gt 1 ] && [[ " ${instance_pids[*]} " == *" $ended "* ]] && [ "$alive" -gt 0 ]; then
    echo "run-sample: an instance (pid $ended) ended; $alive keep serving behind HAProxy" >&2
    continue
  fi
  break
done
