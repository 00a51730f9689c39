#!/usr/bin/env bash
# Resolves a merge conflict in PublicAPI.*.txt files by taking the union of both sides (sorted, header first).
set -euo pipefail
for f in $(git diff --name-only --diff-filter=U | grep -E 'PublicAPI\.(Un)?[Ss]hipped\.txt$'); do
  { echo '#nullable enable'; grep -vE '^(<<<<<<<|=======|>>>>>>>|#nullable enable$)' "$f" | sort -u; } > "$f.tmp"
  mv "$f.tmp" "$f"
  git add "$f"
done
