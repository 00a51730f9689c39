#!/usr/bin/env bash
# Packs exactly what would be published and proves it: the version from src/Directory.Build.props (one place), package
# validation (EnablePackageValidation, at pack), the packages' metadata, then the package smoke test installing these
# very files into new projects. Nothing is pushed: `dotnet nuget push artifacts/release/*.nupkg` is left to a person.
#
#   scripts/release.sh            pack and check the version in src/Directory.Build.props
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=$(grep -oP '<VersionPrefix>\K[^<]+' src/Directory.Build.props)
out="$root/artifacts/release"
rm -rf "$out" && mkdir -p "$out"
grep -q "^## \[$version\]" CHANGELOG.md || { echo "release.sh: CHANGELOG.md has no section for $version" >&2; exit 1; }
for p in Core Npgsql Http; do
  grep -q . "src/Resilience.$p/PublicAPI.Shipped.txt" \
    || { echo "release.sh: src/Resilience.$p/PublicAPI.Shipped.txt is empty: ship the API first" >&2; exit 1; }
  grep -qv '^#' "src/Resilience.$p/PublicAPI.Unshipped.txt" 2>/dev/null \
    && { echo "release.sh: src/Resilience.$p/PublicAPI.Unshipped.txt lists API not yet shipped" >&2; exit 1; }
  dotnet pack "src/Resilience.$p/Resilience.$p.csproj" -c Release -o "$out" --nologo -v quiet -p:ContinuousIntegrationBuild=true
done
RESILIENCE_PACKAGES="$out" RESILIENCE_PACKAGE_VERSION="$version" bash scripts/package-smoke.sh
echo "release.sh: Resilience.Core, .Npgsql and .Http $version packed, validated and smoke-tested in $out"
