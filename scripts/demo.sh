#!/usr/bin/env bash
# Walks through the content service's resilience and prints what it sees at each step:
#   create tasks → break the cheapest provider (its breaker opens, the next provider takes over, costs change)
#   → break all (tasks fail clearly) → heal (breakers close) → stop the database (503 + Retry-After, readiness red)
#   → restart it (recovery). With several instances (INSTANCES=3 bash scripts/run-sample.sh), a step between 1 and 2
#   shows the cluster: one instance that sees 'local' fail does not open the others' breakers; a quorum does, everywhere.
#
# It uses the stack scripts/run-sample.sh is running (found through its STATE_FILE, default
# /tmp/resilience-sample.env), or else starts its own with run-sample.sh — with short break durations so the
# walk-through takes about two minutes — and stops it at the end. SERVICE_URL, PROVIDERS_URL, API_KEY and PG_DIR (the
# directory given to scripts/postgres.sh) may also be set by hand.
# Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "demo.sh: $tool is required (apt-get install -y $tool)" >&2; exit 1; }
done

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
fail() { echo "demo.sh: $*" >&2; exit 1; }

# --- the stack -------------------------------------------------------------------------------------------------------
runner=
state_file=${STATE_FILE:-/tmp/resilience-sample.env}
if [ -z "${SERVICE_URL:-}" ] && [ -f "$state_file" ]; then
  # shellcheck disable=SC1090
  . "$state_file"
  curl -fsS "$SERVICE_URL/health/live" >/dev/null 2>&1 || fail "$state_file names $SERVICE_URL, which does not answer"
  echo "demo.sh: using the stack run-sample.sh started ($SERVICE_URL)"
elif [ -z "${SERVICE_URL:-}" ]; then
  state_file=$(mktemp -u /tmp/resilience-demo-XXXXXX.env)
  log=$(mktemp /tmp/resilience-demo-XXXXXX.log)
  echo "demo.sh: starting the stack with scripts/run-sample.sh (log: $log)"
  # Shorter breaks and metrics cache than the defaults, so the walk-through sees them end; the rest as configured.
  STATE_FILE=$state_file \
    Resilience__Http__llm__BreakDuration=00:00:10 \
    Metrics__CacheDuration=00:00:01 \
    bash "$root/scripts/run-sample.sh" >"$log" 2>&1 &
  runner=$!
  trap 'kill -TERM "$runner" 2>/dev/null; wait "$runner" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    [ -f "$state_file" ] && break
    kill -0 "$runner" 2>/dev/null || fail "run-sample.sh stopped; see $log"
    sleep 1
  done
  [ -f "$state_file" ] || fail "run-sample.sh did not start within 300 s; see $log"
  # shellcheck disable=SC1090
  . "$state_file"
fi
: "${SERVICE_URL:?set SERVICE_URL}" "${PROVIDERS_URL:?set PROVIDERS_URL}" "${API_KEY:?set API_KEY}" "${PG_DIR:?set PG_DIR}"
SERVICE_URL=${SERVICE_URL%/} PROVIDERS_URL=${PROVIDERS_URL%/}

# Polls a command until it succeeds or the time is up; says every 5 s what it is waiting for, so a wait is never silent.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local start=$SECONDS deadline=$((SECONDS + seconds)) next=$((SECONDS + 5))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "gave up waiting for $what after ${seconds}s"
    [ -z "$runner" ] || kill -0 "$runner" 2>/dev/null || fail "the stack stopped (see its log)"
    if [ $SECONDS -ge $next ]; then
      say "... waiting for $what: $((SECONDS - start)) s so far (at most $seconds s)"
      next=$((SECONDS + 5))
    fi
    sleep 1
  done
}

status_data() { curl -fsS "$SERVICE_URL/status/data"; }
breakers() { status_data | jq -r '.breakers[] | "\(.name): \(.state)"' | sed 's/^/   breaker /'; }
breaker_state() { status_data | jq -r --arg n "$1" '[.breakers[] | select(.name == $n) | .state][0] // "none"'; }
breaker_is() { [ "$(breaker_state "$1")" = "$2" ]; }
costs() {
  status_data | jq -r '.costs | if .errorId then "unavailable (\(.errorId))"
    else (if .isStale then "served stale, computed \(.readAt[11:19]): \(.message)" else "computed \(.readAt[11:19])" end),
      (.providers[] | "\(.provider): \(.calls) calls, \(.tokens) tokens, $\(.costUsd)") end' | sed 's/^/   cost /'
}
# The service computes the costs at most once per Metrics:CacheDuration (60 s by default): these wait for figures
# computed after a moment, or for the cached ones to be served stale while the database is down.
now_iso() { date -u +%Y-%m-%dT%H:%M:%S; }
costs_since() { status_data | jq -e --arg t "$1" '.costs.readAt != null and .costs.isStale == false and .costs.readAt[0:19] > $t'; }
costs_stale() { status_data | jq -e '.costs.isStale == true'; }
fault() { curl -fsS -X PUT "$PROVIDERS_URL/faults/$1" -H 'content-type: application/json' -d "$2" >/dev/null; }
heal() { curl -fsS -X DELETE "$PROVIDERS_URL/faults" >/dev/null; }

# Creates a task (through the load balancer, or on the instance at $3) and prints its id.
create_task() {
  curl -fsS -X POST "${3:-$SERVICE_URL}/api/tasks" -H "X-Api-Key: $API_KEY" -H 'content-type: application/json' \
    -d "{\"topic\":\"$1\",\"complexity\":\"${2:-low}\"}" | jq -r '.id'
}
task_final() { curl -fsS "$SERVICE_URL/api/tasks/$1" | jq -e '.status == "completed" or .status == "failed" or .status == "cancelled"'; }
# Waits for a task to end and prints one line about it (status, error, the provider that wrote the content).
report_task() {
  wait_for "task $1" 120 task_final "$1"
  local task provider=""
  task=$(curl -fsS "$SERVICE_URL/api/tasks/$1")
  if [ "$(jq -r '.contentId' <<<"$task")" != null ]; then
    provider=$(curl -fsS "$SERVICE_URL/api/content/$(jq -r '.contentId' <<<"$task")" | jq -r '" by " + .provider')
  fi
  say "task $(jq -r '"\(.id | .[-12:]) \(.status)\(if .errorId then " \(.errorId): \(.error)" else "" end) after \(.attempts) attempt(s)"' <<<"$task")$provider"
}
run_tasks() {
  local topic=$1 count=$2 ids=() i
  for i in $(seq 1 "$count"); do ids+=("$(create_task "$topic #$i")"); done
  for i in "${ids[@]}"; do report_task "$i"; done
}
http_code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
ready_is() { [ "$(http_code "$SERVICE_URL/health/ready")" = "$1" ]; }
# True when the breaker is not open, or its break is over (it turns half-open on the next call, which is the probe);
# times are compared to the second, so one second of margin.
probe_due() {
  status_data | jq -e --arg p "$1" '
    def t: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
    (.generatedAt | t) as $now | [.breakers[] | select(.name == $p)][0]
    | .state != "open" or (.nextProbeAt != null and (.nextProbeAt | t) + 1 < $now)' >/dev/null
}
# Every instance serves again (each has its own database breaker).
database_serves() {
  local u
  for u in "${instance_urls[@]}"; do curl -fsS "$u/api/tasks" >/dev/null || return 1; done
  breaker_is content-db closed
}
# Prints a response's status, Retry-After and problem details (error ID, title, trace id).
print_response() {
  local headers body
  headers=$(mktemp) body=$(mktemp)
  curl -sS -D "$headers" -o "$body" "$@" || true
  say "  $(head -n 1 "$headers" | tr -d '\r')$(grep -i '^retry-after:' "$headers" | tr -d '\r' | sed 's/^/, /')"
  say "  $(jq -c '{errorId, title, traceId}' "$body" 2>/dev/null || head -c 200 "$body")"
  rm -f "$headers" "$body"
}

# --- the cluster (several instances behind the load balancer) ---------------------------------------------------------
read -r -a instance_urls <<<"${INSTANCE_URLS:-$SERVICE_URL}"
# One line per instance about breaker $1: its state there, the cluster's, and the votes towards the quorum.
cluster_rows() {
  local u
  for u in "${instance_urls[@]}"; do
    curl -fsS "$u/status/data" | jq -r --arg b "$1" --arg u "$u" '.cluster as $c | [$c.breakers[]? | select(.name == $b)][0] as $x
      | "   \($c.instanceId) (\($u)): here \($x.localState // "no call yet"), cluster \($x.clusterState // "?"), \($x.votes // 0) vote(s) of \($c.liveInstances) live instance(s)"'
  done
}
# True when breaker $1 is open on every instance.
open_everywhere() {
  local u
  for u in "${instance_urls[@]}"; do
    curl -fsS "$u/status/data" | jq -e --arg b "$1" '[.cluster.breakers[]? | select(.name == $b and .localState == "open")] | length == 1' >/dev/null || return 1
  done
}

# --- the walk-through ------------------------------------------------------------------------------------------------
step "0. The stack"
wait_for "the service at $SERVICE_URL" 300 curl -fsS "$SERVICE_URL/health/ready"
wait_for "the fake providers at $PROVIDERS_URL" 60 curl -fsS "$PROVIDERS_URL/health"
heal
say "service $SERVICE_URL (status page: $SERVICE_URL/status), providers $PROVIDERS_URL"
say "readiness: $(http_code "$SERVICE_URL/health/ready")"

step "1. Create tasks: the cheapest provider (local) writes them"
run_tasks "resilience in practice" 3
breakers
costs

if [ "${#instance_urls[@]}" -gt 1 ]; then
  step "1b. The cluster: ${#instance_urls[@]} instances share the providers' breakers (a quorum opens them everywhere)"
  # A task posted to an instance is mostly run by that instance (its executor is signalled at once; the others poll),
  # so each instance calls 'local' once and has its breaker.
  for u in "${instance_urls[@]}"; do report_task "$(create_task "one per instance" low "$u")"; done
  cluster_rows llm-local
  fault local '{"errorRate":1,"errorStatus":503}'
  say "'local' now answers 503. A task on instance 1 only: its breaker opens there; one vote is no quorum, the others stay closed:"
  report_task "$(create_task "seen failing by one instance" low "${instance_urls[0]}")"
  cluster_rows llm-local
  say "A task on instance 2 too (then 3, … until a quorum saw it): a majority's votes open the breaker on every instance:"
  for u in "${instance_urls[@]:1}"; do
    report_task "$(create_task "seen failing by another instance" low "$u")"
    open_everywhere llm-local && break
  done
  wait_for "the local breaker to open on every instance" 30 open_everywhere llm-local
  cluster_rows llm-local
  heal
fi

step "2. Break the cheapest provider: every call to 'local' answers 503"
fault local '{"errorRate":1,"errorStatus":503}'
since=$(now_iso)
run_tasks "failing over" 3
say "local breaker: $(breaker_state llm-local)"
breakers
wait_for "cost figures computed after the fail-over (cached up to a minute)" 90 costs_since "$since"
costs

step "3. Break every provider: tasks fail clearly, nothing is made up"
fault budget '{"errorRate":1,"errorStatus":503}'
fault premium '{"outage":true}'
run_tasks "nobody home" 2
breakers

step "4. Heal: faults cleared; once its break is over, the next call through each breaker is its probe and closes it"
heal
for pair in local:low budget:medium premium:high; do
  provider=${pair%%:*} complexity=${pair##*:}
  wait_for "the $provider breaker's break to end" 90 probe_due "llm-$provider"
  # A task only this provider (or a pricier one) may serve brings the probe. Clustered, only the instance holding the
  # cluster's probe sends it (the others keep refusing): a task on each instance in turn, until its result closes all.
  for u in "${instance_urls[@]}"; do
    report_task "$(create_task "probe for $provider" "$complexity" "$u")"
    [ "$(breaker_state "llm-$provider")" = open ] || break
  done
  say "$provider breaker: $(breaker_state "llm-$provider")"
done
say "recent transitions of the local breaker:"
status_data | jq -r '.breakers[] | select(.name == "llm-local") | .history[] | "     \(.at[11:19]) \(.from) -> \(.to) (\(.reason))"'
run_tasks "healed" 1

step "5. Stop the database"
bash "$root/scripts/postgres.sh" pause "$PG_DIR" 2>/dev/null
say "GET /api/tasks:"
print_response -X GET "$SERVICE_URL/api/tasks"
say "POST /api/tasks:"
print_response -X POST "$SERVICE_URL/api/tasks" -H "X-Api-Key: $API_KEY" -H 'content-type: application/json' -d '{"topic":"while down"}'
wait_for "readiness to go red" 60 ready_is 503
say "readiness: 503 $(curl -sS "$SERVICE_URL/health/ready" | jq -c '{status, database: .checks.database.status, pool: .checks["postgres-pool"].status}')"
say "database breaker: $(breaker_state content-db)"
wait_for "the cached costs to expire, so they are served stale" 90 costs_stale
costs

step "6. Restart the database: the service recovers by itself"
bash "$root/scripts/postgres.sh" resume "$PG_DIR" 2>/dev/null
wait_for "readiness to go green" 120 ready_is 200
say "readiness: 200"
wait_for "the database breaker to close" 120 database_serves
say "GET /api/tasks: $(http_code "$SERVICE_URL/api/tasks")"
since=$(now_iso)
run_tasks "back again" 2
breakers
wait_for "cost figures computed after the recovery" 90 costs_since "$since"
costs

step "Done"
say "every transition above is in its breaker's history on the status page: $SERVICE_URL/status"
