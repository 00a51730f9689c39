#!/usr/bin/env bash
# Packs Resilience.Core, .Npgsql and .Http into artifacts/packages, then consumes them exactly as a user would:
# a brand-new console project outside the solution, `dotnet add package` by version, build, run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
feed="$root/artifacts/packages"
# A unique version per run, so the NuGet cache can never hand back a stale package of the same version.
version="0.1.0-local.$(date +%Y%m%d%H%M%S)"

rm -f "$feed"/*.nupkg "$feed"/*.snupkg
for p in Core Npgsql Http; do
  dotnet pack "src/Resilience.$p/Resilience.$p.csproj" -c Release -p:Version="$version" -o "$feed" --nologo -v quiet
done
for p in Core Npgsql Http; do
  for ext in nupkg snupkg; do
    [ -f "$feed/Resilience.$p.$version.$ext" ] || { echo "package-smoke: missing Resilience.$p.$version.$ext" >&2; exit 1; }
  done
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="resilience-local" value="$feed" />
  </packageSources>
</configuration>
XML
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

# Every C# block of the READMEs must compile against the packed packages (compiled, not run: they may need servers),
# pasted as a user would: blocks that look like an ASP.NET Core app into a new web app, every other block into a new
# console app. Each README gets only its own package(s) plus the packages it names with `dotnet add package`.
pin() { # the repository's pinned version of a package, else that of the Microsoft.Extensions family
  grep -oP "Include=\"$1\" Version=\"\K[^\"]+" "$root/Directory.Packages.props" \
    || grep -oP 'Include="Microsoft.Extensions.Options" Version="\K[^"]+' "$root/Directory.Packages.props"
}
total=0
for readme in "$root/README.md" "$root"/src/*/README.md; do
  if [ "$readme" = "$root/README.md" ]; then own="Core Npgsql Http"; else own=$(basename "$(dirname "$readme")"); own=${own#Resilience.}; fi
  named=$(grep -ohP 'dotnet add package \K[A-Za-z0-9_.]+' "$readme" | grep -v '^Resilience\.' | sort -u || true)
  for kind in console web; do
    awk -v kind="$kind" -f "$root/scripts/readme-snippets.awk" "$readme" > "$work/snippets.cs"
    blocks=$(grep -c 'internal static async System.Threading.Tasks.Task Snippet' "$work/snippets.cs" || true)
    [ "$blocks" -gt 0 ] || continue
    dir="$work/snippets-$(basename "$(dirname "$readme")")-$kind"
    dotnet new "$kind" -n Snippets -o "$dir" --framework net10.0 >/dev/null
    cd "$dir"
    # The references `dotnet add package` would write, written at once: one restore in the build instead of one per
    # package (the Smoke app above already proves `dotnet add package` itself; this saved about a minute of CI).
    refs=""
    for p in $own; do refs="$refs<PackageReference Include=\"Resilience.$p\" Version=\"$version\" />"; done
    for p in $named; do refs="$refs<PackageReference Include=\"$p\" Version=\"$(pin "$p")\" />"; done
    sed -i "s#</Project>#  <ItemGroup>$refs</ItemGroup>\n</Project>#" Snippets.csproj
    # The snippets declare their own `builder`/`app`: replace the template's top-level program with a bare entry point.
    echo 'internal static class Program { private static void Main() { } }' > Program.cs
    mv "$work/snippets.cs" ReadmeSnippets.cs
    dotnet build -c Release --nologo -v quiet || {
      echo "package-smoke: a C# block of ${readme#"$root"/} does not compile in a new $kind app with only the packages it names" >&2
      cat -n ReadmeSnippets.cs >&2; exit 1; }
    echo "package-smoke: $blocks C# block(s) of ${readme#"$root"/} compile in a new $kind app"
    total=$((total + blocks))
  done
done
echo "package-smoke: $total README C# blocks compile against the packages"
echo "package-smoke: Resilience.Core, .Npgsql and .Http $version installed from the local feed, built and ran"
