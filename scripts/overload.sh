#!/usr/bin/env bash
# The long overload sweep (docs/RELIABILITY.md, "Overload"): a loopback server whose latency grows with
# its queue (10 workers × 100 ms, C = 100 requests/s) driven open-loop at 0.5×, 1×, 2× and 4× C for 20 s each, then
# back to 0.5× C for 10 s, through every protection in the same run; prints the markdown table. About 14 minutes.
#   bash scripts/overload.sh                 Release build, then the sweep
#   bash scripts/overload.sh --no-build      the last build of the chosen configuration as it is
# Knobs: RESILIENCE_OVERLOAD_CONFIG (Release), RESILIENCE_OVERLOAD_STEP (20 s), RESILIENCE_OVERLOAD_WORKERS (10),
# RESILIENCE_OVERLOAD_SERVICE_MS (100). The table also lands in artifacts/overload/figures.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
project=tests/Resilience.Chaos/Resilience.Chaos.csproj
config=${RESILIENCE_OVERLOAD_CONFIG:-Release}
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; fi

out="$root/artifacts/overload"
mkdir -p "$out"
rm -f "$out/figures.md"
export RESILIENCE_CHAOS_REPORT="$out" RESILIENCE_OVERLOAD_SWEEP=1

[ "$build" = 1 ] && nice -n 15 dotnet build "$project" -c "$config"
started=$(date +%s)
status=0
nice -n 15 dotnet test "$project" -c "$config" --no-build --filter "FullyQualifiedName~OverloadTests.Sweep_" \
  --logger "console;verbosity=normal" > "$out/test.log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - started ))
{
  echo
  echo "_Run: \`bash scripts/overload.sh\` ($config), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${elapsed} s, exit $status._"
} >> "$out/figures.md"
cat "$out/figures.md"
[ "$status" = 0 ] || tail -n 30 "$out/test.log"
exit "$status"
