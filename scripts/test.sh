#!/usr/bin/env bash
# Runs every test: restore, Release build, a throwaway PostgreSQL, every test project, the package smoke test and
# the benchmark smoke run. The last line is the total: "N passed, N failed[, N skipped]". Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The compiler server, even where the environment turns it off: each project's compile then skips starting and warming a
# fresh compiler (the solution's Release build 139 → 103 s on the 2-core VM). It is shut down on exit with the rest.
export UseSharedCompilation=true

passed=0 failed=0 skipped=0
results=$(mktemp -d)
pg_dir=$(mktemp -d -u /tmp/resilience-pg-XXXXXX)
cleanup() {
  bash "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1
  dotnet build-server shutdown >/dev/null 2>&1
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each section's header carries the seconds since the start, so a slow run shows where its time went (CI's limit is 10 min).
section() { echo "== $1 (at ${SECONDS} s)"; }

summary() {
  local line="$passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
  echo "$line"
}
fail_early() { echo "test.sh: $1" >&2; failed=$((failed + 1)); summary; exit 1; }

# The machine's own dependencies install and PostgreSQL starts in the background while the solution builds: on a fresh
# machine apt-get spends most of its time downloading, which the build need not wait for (and they share no files).
section "Chromium, Prometheus and PostgreSQL: installed and started beside the build (in the background)"
(
  set -e
  # Debian's chromium and its chromedriver; the status page's browser test fails under CI=true when they are missing.
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "chromium and chromedriver present"
  elif [ "$(id -u)" -eq 0 ]; then
    echo "installing chromium and chromium-driver with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium chromium-driver
  else
    echo "test.sh: chromium/chromedriver missing and this is not root: the browser test is skipped here (and fails under CI)." \
      "Fix: sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
  fi

  # Debian's prometheus, for the /metrics test with a real scraper (likewise required under CI=true). Measured on the
  # 2-core machine: about 26 s to install (once per machine), about 10 s for the test itself.
  if [ -x /usr/bin/prometheus ]; then
    echo "prometheus present"
  elif [ "$(id -u)" -eq 0 ]; then
    echo "installing prometheus with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # The package would start its own service where systemd runs; the test starts a throwaway one instead.
    apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus
  else
    echo "test.sh: prometheus missing and this is not root: its test is skipped here (and fails under CI)." \
      "Fix: sudo apt-get update && sudo apt-get install -y prometheus"
  fi

  # The shared test server trades durability for speed (only test data is at stake); the crash test starts its own durable one.
  # postgres.sh installs PostgreSQL from Debian's packages when it is missing.
  RESILIENCE_PG_FAST=1 bash scripts/postgres.sh start "$pg_dir" >/dev/null
  echo "PostgreSQL started"
) > "$results/machine.log" 2>&1 &
machine=$!

section "restore and build (Release)"
dotnet restore Resilience.sln || fail_early "restore failed"
dotnet build Resilience.sln -c Release --no-restore || fail_early "build failed"

section "Chromium, Prometheus and PostgreSQL: results"
if ! wait "$machine"; then
  cat "$results/machine.log"
  fail_early "could not install or start Chromium, Prometheus or PostgreSQL (the log above)"
fi
grep -vE '^(Selecting|Preparing|Unpacking|Setting up|Processing|\(Reading)' "$results/machine.log"
export RESILIENCE_PG_CONNECTION
RESILIENCE_PG_CONNECTION=$(cat "$pg_dir/connection-string")

run_project() { # run_project PROJECT: its tests, its counts added to the totals
  local project=$1 name trx counters p f t e s
  name=$(basename "$project" .csproj)
  section "$name"
  trx="$results/$name.trx"
  dotnet test "$project" -c Release --no-build --logger "trx;LogFileName=$trx" --logger "console;verbosity=normal" \
    2>&1 | grep -vE '^\s*$' \
    | awk '/Error Message:/ { print; more = 3; next } more > 0 { print; more--; next }
           /Failed |Skipped |error|Assert|at .* in |Total tests|Passed!|Failed!/ && !/^\s+Passed / { print }' | tail -n 200
  if [ -f "$trx" ]; then
    # The TRX counters are exact; the console output is only for people.
    counters=$(grep -o '<Counters [^>]*>' "$trx")
    p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
    f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
    # xUnit's skipped tests are neither executed nor counted as notExecuted: they are the total minus the executed.
    t=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
    e=$(sed -E 's/.* executed="([0-9]+)".*/\1/' <<<"$counters")
    s=$((t - e))
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    echo "   $name: $p passed, $f failed, $s skipped"
  else
    echo "test.sh: $name produced no results (crashed?)" >&2
    failed=$((failed + 1))
  fi
}

# The package smoke test, the benchmark smoke run and the docs build share no files and mostly wait on restores and process
# starts, so they run side by side, in the background. They are CPU-heavy (builds, BenchmarkDotNet), so only the unit-test
# projects below run beside them: those wait for signals on fake clocks, not for time to pass. Every project that judges
# time (recovery bounds, outages, the chaos suite) starts once they are done. Each one's output is printed whole.
section "package smoke test, benchmark smoke run and docs build, side by side (in the background)"
PACKAGE_SMOKE_NO_BUILD=1 bash scripts/package-smoke.sh > "$results/package-smoke.log" 2>&1 &
package_smoke=$!
# The documentation site with warnings as errors (a broken link, a stale telemetry reference, an oversized README).
DOCS_NO_BUILD=1 bash scripts/docs.sh build > "$results/docs.log" 2>&1 &
docs_build=$!
bench_smoke=
if [ -f scripts/bench.sh ]; then
  BENCH_NO_BUILD=1 bash scripts/bench.sh --smoke > "$results/bench-smoke.log" 2>&1 &
  bench_smoke=$!
fi

beside_tail=(tests/Resilience.Core.Tests/Resilience.Core.Tests.csproj tests/Resilience.Http.Tests/Resilience.Http.Tests.csproj)
for project in "${beside_tail[@]}"; do run_project "$project"; done

section "package smoke test, benchmark smoke run and docs build: results"
if wait "$package_smoke"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
grep -vE 'warning : (The URL of repository|Repository .* has no remote|Source control information)' "$results/package-smoke.log"
if [ -n "$bench_smoke" ]; then
  if wait "$bench_smoke"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  cat "$results/bench-smoke.log"
fi

if wait "$docs_build"; then
  passed=$((passed + 1)); grep -E 'telemetry-reference|Build succeeded' "$results/docs.log"
else
  failed=$((failed + 1)); echo "test.sh: the docs build failed:" >&2; cat "$results/docs.log"
fi

# Every other project, alone (a new project lands here by itself).
for project in tests/*/*.csproj; do
  case " ${beside_tail[*]} " in *" $project "*) continue ;; esac
  run_project "$project"
done

section "done"
summary
[ "$failed" -eq 0 ]
