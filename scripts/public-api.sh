#!/usr/bin/env bash
# Records every new public symbol of the src/ projects in PublicAPI.Unshipped.txt (and drops removed ones, or marks a
# shipped one *REMOVED*),
# so a change to the public API is a visible, reviewable diff. Run after changing a public type.
set -euo pipefail
cd "$(dirname "$0")/.."
for proj in src/*/; do
  name=$(basename "$proj")
  log=$(dotnet build "$proj" -c Debug --no-incremental -p:TreatWarningsAsErrors=false 2>&1 || true)
  unshipped="$proj/PublicAPI.Unshipped.txt"
  # RS0016: a public symbol that is not declared yet.
  grep -oP "RS0016: Symbol '\K.*(?=' is not part of the declared public API)" <<<"$log" | sort -u >> "$unshipped" || true
  # RS0017: a declared symbol that no longer exists.
  removed=$(grep -oP "RS0017: Symbol '\K.*(?=' is part of the declared API, but)" <<<"$log" | sort -u || true)
  # A symbol of a released version is not deleted from PublicAPI.Shipped.txt: its removal is recorded as *REMOVED* (a breaking change).
  [ -n "$removed" ] && while IFS= read -r gone; do
    if grep -qxF -- "$gone" "$proj/PublicAPI.Shipped.txt"; then
      echo "*REMOVED*$gone" >> "$unshipped"
    else
      grep -vxF -- "$gone" "$unshipped" > "$unshipped.tmp" || true
      mv "$unshipped.tmp" "$unshipped"
    fi
  done <<<"$removed"
  { head -n1 "$unshipped"; tail -n +2 "$unshipped" | sort -u; } > "$unshipped.tmp" && mv "$unshipped.tmp" "$unshipped"
  echo "$name: $(($(wc -l < "$unshipped") - 1)) unshipped symbols"
done
