#!/usr/bin/env bash
# Scale-out scenarios at a bounded size, run by hand (not in CI; about 9 minutes): the content service as
# INSTANCES instances behind HAProxy (scripts/run-sample.sh), first each instance on its own breakers and limits
# (CLUSTER=false, the baseline), then as a cluster on the database (CLUSTER=true), the same scenarios in each:
#   1. the 'local' LLM provider dead (every call 503) for DEAD_SECONDS under a steady load of tasks: requests reaching it
#      before every instance refuses (every instance's breaker open), and after that (the probes) per break;
#   2. one client's per-key limit through the load balancer: accepted per window, against the limit;
#   3. the database stopped for 10 s while the providers are healthy: p99 of the API's calls before and during (no call
#      waits on coordination), and how long after the database is back every instance is coordinating again;
#   4. the providers unreachable from instance-1 only for CUT_SECONDS (instance-1 reaches them through a loopback proxy,
#      stopped): instance-1's breaker refusals, and the other instances' (extra refusals, and whether theirs opened);
#   5. (clustered only, right after 4, so instance-1 has a vote and leased permits) kill -9 of instance-1: how long until
#      the store stops counting its heartbeat, its vote and its unused permits, and until the others count one fewer.
# Prints a table. Needs curl, jq, psql, haproxy (run-sample.sh installs it when missing) and PostgreSQL (scripts/postgres.sh).
#   INSTANCES=3  DEAD_SECONDS=20  BREAK_SECONDS=5  LOAD_TASKS_PER_SECOND=4  LIMIT=40 per LIMIT_WINDOW_SECONDS=5
#   CUT_SECONDS=15  PORT=5280  PROVIDERS_PORT=5290  PROXY_PORT=5300 (apart from run-sample.sh's defaults, so a running
#   sample is left alone)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
instances=${INSTANCES:-3}
dead=${DEAD_SECONDS:-20}
break_s=${BREAK_SECONDS:-5}
load_rps=${LOAD_TASKS_PER_SECOND:-4}
limit=${LIMIT:-40}
limit_window=${LIMIT_WINDOW_SECONDS:-5}
cut=${CUT_SECONDS:-15}
port=${PORT:-5280}
providers_port=${PROVIDERS_PORT:-5290}
proxy_port=${PROXY_PORT:-5300}
# run-sample.sh installs HAProxy when missing; this script needs it before (the proxy of scenario 4) and runs it first.
if ! command -v haproxy >/dev/null && [ "$(id -u)" -eq 0 ]; then
  echo "scale-out: installing haproxy with apt-get" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy; } >&2 || true
  service haproxy stop >/dev/null 2>&1 || true
fi
for tool in curl jq psql haproxy; do
  command -v "$tool" >/dev/null || { echo "scale-out: $tool is required" >&2; exit 1; }
done
[ "$instances" -ge 2 ] || { echo "scale-out: INSTANCES must be 2 or more" >&2; exit 2; }

work=$(mktemp -d /tmp/resilience-scale-out-XXXXXX)
# Scenario 3's clients: a key per instance, each well within its own allowance, so the limit refuses none of them.
probe_key=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
probe_keys=()
for i in $(seq 1 "$instances"); do probe_keys+=("Security__ApiKeys__probe$i=$probe_key-$i"); done
runner=
proxy=
# Instance-1's way to the providers (scenario 4): a TCP proxy on PROXY_PORT; stopping it cuts instance-1 off alone.
start_proxy() {
  cat >"$work/proxy.cfg" <<CFG
global
  maxconn 512
defaults
  mode tcp
  timeout connect 2s
  timeout client 5m
  timeout server 5m
listen providers
  bind 127.0.0.1:$proxy_port
  server providers 127.0.0.1:$providers_port
CFG
  haproxy -db -f "$work/proxy.cfg" >>"$work/proxy.log" 2>&1 &
  proxy=$!
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && return; sleep 0.1; done
  echo "scale-out: the proxy did not start (see $work/proxy.log)" >&2; exit 1
}
stop_proxy() {
  if [ -n "$proxy" ]; then
    kill -TERM "$proxy" 2>/dev/null || true
    wait "$proxy" 2>/dev/null || true
    proxy=
  fi
}
stop_stack() {
  if [ -n "$runner" ]; then
    kill -TERM "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
    runner=
  fi
}
cleanup() { stop_stack; stop_proxy; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
say() { printf 'scale-out: %s\n' "$*" >&2; }

# Starts the stack (CLUSTER=$1) and loads its state file (SERVICE_URL, INSTANCE_URLS, PROVIDERS_URL, API_KEY, PG_DIR).
start_stack() {
  local state=$work/state-$1.env
  say "starting $instances instances, CLUSTER=$1 (log: $work/run-$1.log)"
  env STATE_FILE="$state" PORT=$port PROVIDERS_PORT=$providers_port INSTANCES=$instances CLUSTER=$1 \
    PROVIDERS_URL_1="http://127.0.0.1:$proxy_port" \
    Resilience__Http__llm__BreakDuration="00:00:$(printf '%02d' "$break_s")" \
    RateLimiting__PermitsPerWindow="$limit" RateLimiting__Window="00:00:$(printf '%02d' "$limit_window")" \
    "${probe_keys[@]}" \
    bash "$root/scripts/run-sample.sh" >"$work/run-$1.log" 2>&1 &
  runner=$!
  # Up to 15 minutes: run-sample.sh builds first, which takes minutes on a loaded 2-core machine.
  for _ in $(seq 1 1800); do
    [ -f "$state" ] && break
    kill -0 "$runner" 2>/dev/null || { tail -20 "$work/run-$1.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -f "$state" ] || { echo "scale-out: the stack did not start within 900 s" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$state"
  read -r -a urls <<<"$INSTANCE_URLS"
  read -r -a instance_pids <<<"$INSTANCE_PIDS"
}

local_requests() { curl -fsS "$PROVIDERS_URL/requests" | jq '.local // 0'; }
# How many instances report the local breaker open now.
open_count() {
  local u n=0
  for u in "${urls[@]}"; do
    if curl -fsS --max-time 2 "$u/status/data" | jq -e '[.breakers[] | select(.name == "llm-local" and .state == "open")] | length == 1' >/dev/null 2>&1; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}

# A steady load of tasks through the load balancer (low complexity: the 'local' provider writes them first).
start_load() {
  (
    while true; do
      curl -sS -o /dev/null -X POST "$SERVICE_URL/api/tasks" -H "X-Api-Key: $API_KEY" -H 'content-type: application/json' \
        -d '{"topic":"scale-out","complexity":"low"}' || true
      sleep "$(awk "BEGIN { print 1 / $load_rps }")"
    done
  ) &
  load_pid=$!
}
stop_load() { kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; }

# Scenario 1. Prints: requests before every instance refuses, seconds to that, requests after it, break periods after it.
dead_provider() {
  start_load
  sleep 5 # every instance runs tasks, so each has its breaker
  local c0 c1 c2 t0 t1 t_end
  c0=$(local_requests)
  t0=$(now_ms)
  curl -fsS -X PUT "$PROVIDERS_URL/faults/local" -H 'content-type: application/json' -d '{"errorRate":1,"errorStatus":503}' >/dev/null
  t_end=$((t0 + dead * 1000))
  c1=
  while [ "$(now_ms)" -lt "$t_end" ]; do
    if [ -z "$c1" ] && [ "$(open_count)" -eq "${#urls[@]}" ]; then
      c1=$(local_requests) t1=$(now_ms)
    fi
    sleep 0.2
  done
  c2=$(local_requests)
  curl -fsS -X DELETE "$PROVIDERS_URL/faults" >/dev/null
  stop_load
  [ -n "$c1" ] || { echo "- - - -"; return; }
  # Break periods wholly inside the dead time after every instance refused: each should bring one probe per refusing unit.
  local periods=$(( (t_end - t1) / (break_s * 1000) ))
  echo "$((c1 - c0)) $(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) / 1000 }") $((c2 - c1)) $periods"
}

# An instance's 'local' breaker rejections so far.
rejections() { curl -fsS --max-time 5 "$1/status/data" | jq '[.breakers[] | select(.name == "llm-local") | .rejections] | first // 0' || echo 0; }

# Scenario 4. Sets outcome: instance-1's refusals during the cut, the other instances' refusals (extra: they reach the
# provider), and the most of the others seen open at once. Runs in this shell (not in $(…)): it stops and starts the proxy.
one_instance_cut() {
  start_load
  sleep 5
  local before=() after=() i others=0 most=0 n t_end
  for u in "${urls[@]}"; do before+=("$(rejections "$u")"); done
  stop_proxy
  t_end=$(( $(now_ms) + cut * 1000 ))
  while [ "$(now_ms)" -lt "$t_end" ]; do
    n=0
    for u in "${urls[@]:1}"; do
      if curl -fsS --max-time 2 "$u/status/data" | jq -e '[.breakers[] | select(.name == "llm-local" and .state != "closed")] | length == 1' >/dev/null 2>&1; then
        n=$((n + 1))
      fi
    done
    [ "$n" -gt "$most" ] && most=$n
    sleep 0.2
  done
  for u in "${urls[@]}"; do after+=("$(rejections "$u")"); done
  start_proxy
  stop_load
  for i in $(seq 1 $((${#urls[@]} - 1))); do others=$((others + after[i] - before[i])); done
  outcome="$((after[0] - before[0])) $others $most"
}

# Scenario 5 (clustered). Sets outcome: instance-1's vote and unused permits counted before the kill, the seconds from kill -9
# to the store counting none of its heartbeat, vote and permits, and to every other instance counting one instance fewer.
store_sql() { # the cluster's tables, read straight from the database
  local cs=$PG_DIR/connection-string
  PGHOST=$(grep -oP 'Host=\K[^;]*' "$cs") PGPORT=$(grep -oP 'Port=\K[^;]*' "$cs") PGDATABASE=$(grep -oP 'Database=\K[^;]*' "$cs") \
    PGUSER=$(grep -oP 'Username=\K[^;]*' "$cs") PGPASSWORD=$(grep -oP 'Password=\K[^;]*' "$cs") \
    psql -XAtq -F ' ' -c "$1" 2>/dev/null || true
}
kill_instance() {
  local id=instance-1 q t0 t_store=- t_seen=- row seen u live
  # Counted for the cluster = from a live instance: its heartbeat, its votes within their window, and the permits of the
  # current window it holds unused (a dead instance's go back to the window).
  q="SELECT (SELECT count(*) FROM resilience_cluster_instance WHERE id = '$id' AND expires_at > now()),
            (SELECT count(*) FROM resilience_cluster_vote v JOIN resilience_cluster_instance i ON i.id = v.instance AND i.expires_at > now()
              WHERE v.instance = '$id' AND v.expires_at > now()),
            (SELECT coalesce(sum(q.unused), 0) FROM resilience_cluster_quota_lease q JOIN resilience_cluster_instance i ON i.id = q.instance AND i.expires_at > now()
              WHERE q.instance = '$id' AND q.window_no = (extract(epoch FROM clock_timestamp()) * 1000)::bigint / $((limit_window * 1000)))"
  start_load
  sleep 2
  row=$(store_sql "$q")
  kill -KILL "${instance_pids[0]}"
  t0=$(now_ms)
  while [ $(( $(now_ms) - t0 )) -lt 30000 ]; do
    if [ "$t_store" = - ] && [ "$(store_sql "$q")" = "0 0 0" ]; then t_store=$(awk "BEGIN { printf \"%.1f\", ($(now_ms) - $t0) / 1000 }"); fi
    if [ "$t_seen" = - ]; then
      seen=1
      for u in "${urls[@]:1}"; do
        live=$(curl -fsS --max-time 2 "$u/status/data" | jq '.cluster.liveInstances' 2>/dev/null || echo 0)
        [ "$live" = $((${#urls[@]} - 1)) ] || { seen=0; break; }
      done
      [ "$seen" -eq 1 ] && t_seen=$(awk "BEGIN { printf \"%.1f\", ($(now_ms) - $t0) / 1000 }")
    fi
    [ "$t_store" != - ] && [ "$t_seen" != - ] && break
    sleep 0.1
  done
  stop_load
  read -r _ votes unused <<<"${row:-? ? ?}"
  outcome="$votes $unused $t_store $t_seen"
}

# Scenario 2. Prints: the most accepted in one whole window, and the windows measured.
per_key_limit() {
  local log=$work/limit.log end i
  : >"$log"
  end=$(( $(now_ms) + (3 * limit_window + 1) * 1000 ))
  while [ "$(now_ms)" -lt "$end" ]; do
    local t codes
    t=$(now_ms)
    # 16 requests at once, then the next batch: well over the limit, whichever instance HAProxy picks.
    codes=$(for i in $(seq 1 16); do curl -sS -o /dev/null -w '%{http_code}\n' -H "X-Api-Key: $API_KEY" "$SERVICE_URL/api/tasks?pageSize=1" & done; wait)
    printf '%s\n' "$codes" | awk -v t="$t" '{ print t, $1 }' >>"$log"
  done
  # Whole windows only (the cluster's are aligned on the Unix epoch; so are these).
  awk -v w=$((limit_window * 1000)) '
    { win = int($1 / w); if (first == "") first = win; last = win; if ($2 == 200) ok[win]++; all[win]++ }
    END { max = 0; n = 0; for (x = first + 1; x < last; x++) { n++; if (ok[x] > max) max = ok[x] } print max, n }' "$log"
}

# Scenario 3. Prints: p99 ms before, p99 ms during the 10 s stop, seconds from the database's return to every instance
# coordinating again (- when not clustered).
database_stopped() {
  local before=$work/before.txt during=$work/during.txt
  sample_latency() { # $1 file, $2 seconds
    local end=$(( $(now_ms) + $2 * 1000 ))
    : >"$1"
    while [ "$(now_ms)" -lt "$end" ]; do
      for i in "${!urls[@]}"; do
        curl -sS -o /dev/null -w '%{time_total}\n' --max-time 30 -H "X-Api-Key: $probe_key-$((i + 1))" "${urls[$i]}/api/tasks?pageSize=1" >>"$1" || true
      done
      sleep 0.2 # about 4 calls a second per key: within its limit
    done
  }
  p99() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.0f", v[i] * 1000 }'; }
  sample_latency "$before" 5
  bash "$root/scripts/postgres.sh" pause "$PG_DIR" 2>/dev/null
  sample_latency "$during" 10
  bash "$root/scripts/postgres.sh" resume "$PG_DIR" >/dev/null 2>&1
  local back=$(now_ms) rejoin=- all u
  if [ "$1" = true ]; then
    while [ $(( $(now_ms) - back )) -lt 30000 ]; do
      all=1
      for u in "${urls[@]}"; do
        curl -fsS --max-time 2 "$u/status/data" | jq -e '.cluster.connected == true' >/dev/null 2>&1 || { all=0; break; }
      done
      if [ "$all" -eq 1 ]; then rejoin=$(awk "BEGIN { printf \"%.1f\", ($(now_ms) - $back) / 1000 }"); break; fi
      sleep 0.2
    done
  fi
  echo "$(p99 "$before") $(p99 "$during") $rejoin"
}

declare -A result
for mode in false true; do
  start_proxy
  start_stack "$mode"
  say "scenario 1: 'local' dead for $dead s under $load_rps tasks/s"
  result[$mode.dead]=$(dead_provider)
  say "scenario 2: the per-key limit ($limit per $limit_window s) through HAProxy"
  result[$mode.limit]=$(per_key_limit)
  say "scenario 3: the database stopped for 10 s"
  result[$mode.db]=$(database_stopped "$mode")
  say "scenario 4: the providers unreachable from instance-1 only for $cut s"
  one_instance_cut
  result[$mode.cut]=$outcome
  if [ "$mode" = true ]; then
    say "scenario 5: kill -9 of instance-1"
    kill_instance
    result[$mode.kill]=$outcome
  fi
  stop_stack
  stop_proxy
done

row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
read -r pi_before pi_secs pi_after pi_periods <<<"${result[false.dead]}"
read -r cl_before cl_secs cl_after cl_periods <<<"${result[true.dead]}"
read -r pi_max pi_windows <<<"${result[false.limit]}"
read -r cl_max cl_windows <<<"${result[true.limit]}"
read -r pi_p99a pi_p99b _ <<<"${result[false.db]}"
read -r cl_p99a cl_p99b cl_rejoin <<<"${result[true.db]}"
read -r pi_cut1 pi_cut_others pi_cut_open <<<"${result[false.cut]}"
read -r cl_cut1 cl_cut_others cl_cut_open <<<"${result[true.cut]}"
read -r kill_votes kill_unused kill_store kill_seen <<<"${result[true.kill]}"
per_break() { awk "BEGIN { if ($2 > 0) printf \"%.1f\", $1 / $2; else print \"-\" }"; }
echo
echo "scale-out: $instances instances behind HAProxy, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr)"
echo
row "scenario" "per-instance breakers and limits (CLUSTER=false)" "cluster-wide (CLUSTER=true)"
row "---" "---" "---"
row "'local' dead ${dead} s, ${load_rps} tasks/s: requests reaching it before every instance refuses" "$pi_before (all open after $pi_secs s)" "$cl_before (all open after $cl_secs s)"
row "… one instance's share of that (per-instance count / $instances)" "$(awk "BEGIN { printf \"%.1f\", $pi_before / $instances }")" "-"
row "… requests reaching it once all refuse (probes), per ${break_s}-s break" "$pi_after in $pi_periods breaks = $(per_break "$pi_after" "$pi_periods")" "$cl_after in $cl_periods breaks = $(per_break "$cl_after" "$cl_periods")"
row "per-key limit $limit per ${limit_window} s through HAProxy: most accepted in a window" "$pi_max ($(awk "BEGIN { printf \"%.2f\", $pi_max / $limit }")×, $pi_windows windows)" "$cl_max ($(awk "BEGIN { printf \"%.2f\", $cl_max / $limit }")×, $cl_windows windows)"
row "database stopped 10 s: p99 of GET /api/tasks before → during" "$pi_p99a ms → $pi_p99b ms" "$cl_p99a ms → $cl_p99b ms"
row "… every instance coordinating again after the database returns" "-" "$cl_rejoin s"
row "providers unreachable from instance-1 only, ${cut} s, ${load_rps} tasks/s: refused by instance-1 / extra refusals by the others (most of them open at once)" \
  "$pi_cut1 / $pi_cut_others ($pi_cut_open open)" "$cl_cut1 / $cl_cut_others ($cl_cut_open open)"
row "kill -9 of instance-1 (lease time 5 s): its heartbeat, vote and unused permits no longer counted by the store / the others count $((instances - 1)) live" \
  "-" "after $kill_store s ($kill_votes votes, $kill_unused unused permits before) / after $kill_seen s"
