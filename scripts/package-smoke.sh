#!/usr/bin/env bash
# Packs Resilience.Core, .Npgsql and .Http into artifacts/packages, then consumes them exactly as a user would:
# a brand-new console project outside the solution, `dotnet add package` by version, build, run. Checks each
# package's metadata, and compiles every C# block of the READMEs and docs against the packages.
#
# RESILIENCE_PACKAGES=DIR RESILIENCE_PACKAGE_VERSION=V: test the packages already in DIR instead of packing
# (scripts/release.sh), with a fresh NuGet cache so an earlier package of the same version cannot stand in.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${RESILIENCE_PACKAGES:-}" ]; then
  feed=$RESILIENCE_PACKAGES
  version=${RESILIENCE_PACKAGE_VERSION:?RESILIENCE_PACKAGE_VERSION is required with RESILIENCE_PACKAGES}
  export NUGET_PACKAGES="$work/nuget-cache"
else
  feed="$root/artifacts/packages"
  # A unique version per run, so the NuGet cache can never hand back a stale package of the same version.
  version="$(grep -oP '<VersionPrefix>\K[^<]+' src/Directory.Build.props)-local.$(date +%Y%m%d%H%M%S)"
  rm -f "$feed"/*.nupkg "$feed"/*.snupkg
  # PACKAGE_SMOKE_NO_BUILD=1 (scripts/test.sh, right after its Release build) packs what is built: the packages then carry
  # the version above while their assemblies keep the build's, and src/ is not rebuilt beside the docs build reading it.
  build_flag=(); [ "${PACKAGE_SMOKE_NO_BUILD:-0}" = 1 ] && build_flag=(--no-build)
  for p in Core Npgsql Http; do
    dotnet pack "src/Resilience.$p/Resilience.$p.csproj" -c Release "${build_flag[@]}" -p:Version="$version" -o "$feed" --nologo -v quiet
  done
fi
for p in Core Npgsql Http; do
  for ext in nupkg snupkg; do
    [ -f "$feed/Resilience.$p.$version.$ext" ] || { echo "package-smoke: missing Resilience.$p.$version.$ext" >&2; exit 1; }
  done
done

# What NuGet shows on each package's page: a package without it looks abandoned.
for p in Core Npgsql Http; do
  nuspec=$(unzip -p "$feed/Resilience.$p.$version.nupkg" "Resilience.$p.nuspec")
  for element in description tags icon readme license repository projectUrl authors; do
    grep -q "<$element[ >]" <<<"$nuspec" || { echo "package-smoke: Resilience.$p has no <$element> in its nuspec" >&2; exit 1; }
  done
  # The listing is read whole first: `grep -q` on a pipe would stop unzip mid-write, and pipefail would count that.
  listing=$(unzip -l "$feed/Resilience.$p.$version.nupkg")
  for file in icon.png README.md; do
    grep -q " $file\$" <<<"$listing" || { echo "package-smoke: Resilience.$p lacks $file" >&2; exit 1; }
  done
done
echo "package-smoke: description, tags, icon, readme, license, repository and authors present in each package"

cd "$work"
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="resilience-local" value="$feed" />
  </packageSources>
</configuration>
XML
# The first program, as a user writes it (`dotnet add package`, build, run), in a lane of its own beside the README blocks below.
(
  dotnet new console -n Smoke -o Smoke --framework net10.0 >/dev/null
  cd Smoke
  for p in Core Npgsql Http; do
    out=$(dotnet add package "Resilience.$p" --version "$version" 2>&1) || { echo "$out" >&2; exit 1; }
    # `dotnet add package` can exit 0 although restore failed: read what it says.
    if grep -qiE 'error|could not be found|unable to find' <<<"$out"; then echo "$out" >&2; exit 1; fi
  done
  cp "$root/scripts/smoke/Program.cs" Program.cs
  dotnet build -c Release --nologo -v quiet
  dotnet run -c Release --no-build
) > "$work/smoke.log" 2>&1 &
smoke_app=$!

# Every C# block of the READMEs must compile against the packed packages (compiled, not run: they may need servers),
# pasted as a user would: blocks that look like an ASP.NET Core app into a new web app, every other block into a new
# console app. Each README gets only its own package(s) plus the packages it names with `dotnet add package`.
pin() { # the repository's pinned version of a package, else that of the Microsoft.Extensions family
  grep -oP "Include=\"$1\" Version=\"\K[^\"]+" "$root/Directory.Packages.props" \
    || grep -oP 'Include="Microsoft.Extensions.Options" Version="\K[^"]+' "$root/Directory.Packages.props"
}
total=0
apps=() labels=() kinds=() counts=()
# new_app KIND DIR: a new app of the template KIND in DIR. Each template is instantiated once (without its restore: the
# build below restores) and copied, which is what `dotnet new` would write again.
new_app() {
  [ -d "$work/templates/$1" ] || dotnet new "$1" -n Snippets -o "$work/templates/$1" --framework net10.0 --no-restore >/dev/null
  cp -r "$work/templates/$1" "$2"
}
# compile_blocks LABEL OWN FILE...: the C# blocks of FILE... with the Resilience packages OWN (e.g. "Core Npgsql") and
# the packages the files name with `dotnet add package`, each kind in an app of its own, built below. SNIPPET_LANG=cs
# SNIPPET_PACKAGES="A B": the ```cs blocks, with the packages A and B instead (the migration guide's Polly halves).
compile_blocks() {
  local label=$1 own=$2; shift 2
  local named lang=${SNIPPET_LANG:-csharp}
  named=${SNIPPET_PACKAGES:-$(grep -ohP 'dotnet add package \K[A-Za-z0-9_.]+' "$@" | grep -v '^Resilience\.' | sort -u || true)}
  for kind in console web; do
    awk -v kind="$kind" -v lang="$lang" -f "$root/scripts/readme-snippets.awk" "$@" > "$work/snippets.cs"
    blocks=$(grep -c 'internal static async System.Threading.Tasks.Task Snippet' "$work/snippets.cs" || true)
    [ "$blocks" -gt 0 ] || continue
    dir="$work/snippets-${label//[^A-Za-z0-9.]/-}-$lang-$kind"
    new_app "$kind" "$dir"
    # The references `dotnet add package` would write, written at once: one restore in the build instead of one per
    # package (the Smoke app above already proves `dotnet add package` itself; this saved about a minute of CI).
    refs=""
    for p in $own; do refs="$refs<PackageReference Include=\"Resilience.$p\" Version=\"$version\" />"; done
    for p in $named; do refs="$refs<PackageReference Include=\"$p\" Version=\"$(pin "$p")\" />"; done
    sed -i "s#</Project>#  <ItemGroup>$refs</ItemGroup>\n</Project>#" "$dir/Snippets.csproj"
    # The snippets declare their own `builder`/`app`: replace the template's top-level program with a bare entry point.
    echo 'internal static class Program { private static void Main() { } }' > "$dir/Program.cs"
    mv "$work/snippets.cs" "$dir/ReadmeSnippets.cs"
    # One solution holds every app below, and its projects' names must differ.
    mv "$dir/Snippets.csproj" "$dir/Snippets${#apps[@]}.csproj"
    apps+=("$dir") labels+=("$label") kinds+=("$kind") counts+=("$blocks")
    total=$((total + blocks))
  done
}
# The root README and the documentation site's pages together (one app of each kind with all three packages; one build
# instead of two keeps CI short); then the migration guide's Polly halves against Polly and Microsoft's handler only.
mapfile -t pages < <(find "$root/docs" -name '*.md' -not -path '*/_site/*' -not -path '*/api/*' | sort)
compile_blocks "README.md and docs" "Core Npgsql Http" "$root/README.md" "${pages[@]}"
SNIPPET_LANG=cs SNIPPET_PACKAGES="Polly.Core Polly.Testing Microsoft.Extensions.Http.Resilience" \
  compile_blocks "the Polly halves of docs/migrating-from-polly.md" "" "$root/docs/migrating-from-polly.md"
for readme in "$root"/src/*/README.md; do
  own=$(basename "$(dirname "$readme")")
  compile_blocks "${readme#"$root"/}" "${own#Resilience.}" "$readme"
done

# Every app in one build: one restore and one MSBuild for all (instead of a process, an evaluation and a restore each),
# its projects side by side. Each app is its own project, with only its own references: none sees another's packages.
{
  echo '<Solution>'
  for i in "${!apps[@]}"; do echo "  <Project Path=\"${apps[$i]}/Snippets$i.csproj\" />"; done
  echo '</Solution>'
} > "$work/snippets.slnx"
if ! dotnet build "$work/snippets.slnx" -c Release --nologo -v quiet; then
  # Name the culprit(s): each app that did not build, built alone for its own errors, with its blocks numbered.
  for i in "${!apps[@]}"; do
    (cd "${apps[$i]}" && dotnet build -c Release --nologo -v quiet >/dev/null 2>&1) && continue
    (cd "${apps[$i]}" && dotnet build -c Release --nologo -v quiet) >&2 || true
    echo "package-smoke: a C# block of ${labels[$i]} does not compile in a new ${kinds[$i]} app with only the packages it names" >&2
    cat -n "${apps[$i]}/ReadmeSnippets.cs" >&2
  done
  wait "$smoke_app"; exit 1
fi
for i in "${!apps[@]}"; do echo "package-smoke: ${counts[$i]} C# block(s) of ${labels[$i]} compile in a new ${kinds[$i]} app"; done
echo "package-smoke: $total C# blocks of the READMEs and docs compile against the packages"

if ! wait "$smoke_app"; then cat "$work/smoke.log" >&2; echo "package-smoke: the Smoke app failed" >&2; exit 1; fi
cat "$work/smoke.log"
echo "package-smoke: Resilience.Core, .Npgsql and .Http $version installed from the local feed, built and ran"
