#!/usr/bin/env bash
# Benchmarks: this library vs Polly v8 vs a bare call (BenchmarkDotNet).
#   bash scripts/bench.sh --smoke            every benchmark once, in-process (CI: proves the suite still runs)
#   bash scripts/bench.sh [FILTER]           the full run (short job); GitHub-markdown reports -> benchmarks/results/,
#                                            then scripts/bench-chart.py (ratio tables in benchmarks/README.md, overhead.svg)
#   bash scripts/bench.sh --long [FILTER]    BenchmarkDotNet's default job (more iterations; minutes per class)
# The io benchmarks (loopback HTTP, PostgreSQL) are in the default run; the PostgreSQL class runs only when
# RESILIENCE_PG_CONNECTION is set (Program.cs skips it with a message otherwise). Exclude io with FILTER, e.g.
# '*Closed*' or run classes one at a time: each writes its own report.
set -euo pipefail
cd "$(dirname "$0")/.."
project=benchmarks/Resilience.Benchmarks/Resilience.Benchmarks.csproj
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

job=short
if [ "${1:-}" = "--smoke" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  # BENCH_NO_BUILD=1 (test.sh, after its build) runs what is built: the package smoke test rebuilds src/ beside it.
  build_flag=(); [ "${BENCH_NO_BUILD:-0}" = 1 ] && build_flag=(--no-build)
  dotnet run -c Release "${build_flag[@]}" --project "$project" -- --filter '*' --job Dry --inProcess --artifacts "$out" \
    > "$out/log.txt" 2>&1 || { tail -n 80 "$out/log.txt" >&2; echo "bench.sh: smoke run failed" >&2; exit 1; }
  count=$(grep -cE '^// Benchmark: ' "$out/log.txt" || true)
  # A thrown exception prints its qualified type name (System.X.YException: …); benchmark names such as
  # OpenCircuit_Ours_Exception must not count as one.
  errors='ERROR|[A-Za-z]+\.[A-Za-z.]*Exception: '
  if grep -qE "$errors" "$out/log.txt" || [ "$count" -eq 0 ]; then
    grep -nE "$errors" "$out/log.txt" | head -n 20 >&2 || true
    echo "bench.sh: smoke run reported errors ($count benchmarks)" >&2; exit 1
  fi
  echo "bench.sh: smoke run ok, $count benchmarks executed once"
  exit 0
fi
if [ "${1:-}" = "--long" ]; then job=default; shift; fi

filter=${1:-*}
results=benchmarks/results
mkdir -p "$results"
dotnet run -c Release --project "$project" -- --filter "$filter" --job "$job" --artifacts "$results/raw" --exporters github
cp "$results"/raw/results/*-report-github.md "$results"/
if command -v python3 >/dev/null; then python3 scripts/bench-chart.py >/dev/null; fi
echo "bench.sh: reports in $results/ (commit them with the machine they ran on)"
