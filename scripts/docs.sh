#!/usr/bin/env bash
# The documentation site: conceptual pages in docs/ plus the API reference from the packages' XML docs, built with
# DocFX (the repository's local tool, .config/dotnet-tools.json).
#
#   scripts/docs.sh build    build docs/_site with warnings as errors (a broken link fails); CI runs this
#   scripts/docs.sh serve    build, then serve it on http://localhost:8080
#
# The API pages are read from the Release build of src/ (a missing XML doc already fails that build: warnings are
# errors); DOCS_NO_BUILD=1 skips the build when it is fresh (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command=${1:-build}
dotnet tool restore >/dev/null
if [ "${DOCS_NO_BUILD:-}" != 1 ]; then
  for p in Core Npgsql Http; do dotnet build "src/Resilience.$p/Resilience.$p.csproj" -c Release --nologo -v quiet; done
fi
python3 scripts/telemetry-reference.py --check
# The pages NuGet and the repository show first stay short: the rest belongs in the guide.
check_size() { local size; size=$(wc -c < "$1"); [ "$size" -le "$2" ] || { echo "docs.sh: $1 is $size bytes, over $2" >&2; exit 1; }; }
check_size README.md 12288
for readme in src/*/README.md; do check_size "$readme" 8192; done
case "$command" in
  build) dotnet docfx docs/docfx.json --warningsAsErrors ;;
  serve) dotnet docfx docs/docfx.json --warningsAsErrors --serve --port 8080 ;;
  *) echo "usage: scripts/docs.sh build|serve" >&2; exit 2 ;;
esac
