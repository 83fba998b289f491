#!/usr/bin/env bash
# Every ```crm block of README.md and docs/*.md is a complete script that `crm check` accepts,
# so the documentation cannot drift from the language. Each document's blocks are checked in a
# folder of their own next to copies of examples/campaigns/*.crm, so a block may
# `import "winback.crm"`; a block preceded by a line `<!-- file: NAME.crm -->` is saved under
# that name, so that another block of the document may import it (the tutorial's test file
# imports its campaign). A block that declares tests (`test "NAME" { ... }`) must also pass
# `crm test`.  usage: docs_examples.sh CRM PROJECT_DIR
set -euo pipefail
crm="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
n=0; t=0
for doc in "$root"/README.md "$root"/docs/*.md; do
  base="$(basename "$doc" .md)"
  mkdir -p "$work/$base"
  cp "$root"/examples/campaigns/*.crm "$work/$base"/
  awk -v dir="$work/$base" -v base="$base" -v list="$work/blocks.txt" '
    /^<!-- file: [A-Za-z0-9_.-]+\.crm -->[[:space:]]*$/ { named = $3; next }
    /^```crm[[:space:]]*$/ {
      inblock = 1; k++
      file = dir "/" (named != "" ? named : sprintf("doc_%s_%d.crm", base, k)); named = ""
      printf "" > file; print file >> list; next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }
    !inblock && !/^[[:space:]]*$/ { named = "" }' "$doc"
done
[ -f "$work/blocks.txt" ] || { echo "FAIL: no crm examples found in the docs"; exit 1; }
while read -r f; do
  n=$((n + 1))
  name="$(basename "$(dirname "$f")")/$(basename "$f")"
  if ! (cd "$(dirname "$f")" && "$crm" check "$(basename "$f")") > "$work/out" 2>&1; then
    echo "FAIL: $name"; cat "$work/out"; exit 1
  fi
  if grep -q '^test "' "$f"; then
    t=$((t + 1))
    if ! (cd "$(dirname "$f")" && "$crm" test "$(basename "$f")") > "$work/out" 2>&1; then
      echo "FAIL: the tests of $name"; cat "$work/out"; exit 1
    fi
  fi
done < "$work/blocks.txt"
echo "$n documentation example(s) check cleanly, $t of them with passing tests"
