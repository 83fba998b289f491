#!/usr/bin/env bash
# Every ```crm block of README.md and docs/*.md is a complete script that `crm check` accepts,
# so the documentation cannot drift from the language. A block preceded by a line
# `<!-- file: NAME.crm -->` is saved under that name, next to the other blocks of its document,
# so that another block may import it (the tutorial's test file imports its campaign).
# usage: docs_examples.sh CRM PROJECT_DIR
set -euo pipefail
crm="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
n=0
for doc in "$root"/README.md "$root"/docs/*.md; do
  base="$(basename "$doc" .md)"
  mkdir -p "$work/$base"
  awk -v dir="$work/$base" -v base="$base" '
    /^<!-- file: [A-Za-z0-9_.-]+\.crm -->[[:space:]]*$/ { named = $3; next }
    /^```crm[[:space:]]*$/ { inblock = 1; k++; file = dir "/" (named != "" ? named : sprintf("%s_%d.crm", base, k)); named = ""; next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }
    !inblock && !/^[[:space:]]*$/ { named = "" }' "$doc"
done
for f in "$work"/*/*.crm; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  if ! (cd "$(dirname "$f")" && "$crm" check "$(basename "$f")") > "$work/out" 2>&1; then
    echo "FAIL: ${f#$work/}"; cat "$work/out"; exit 1
  fi
done
[ "$n" -gt 0 ] || { echo "FAIL: no crm examples found in the docs"; exit 1; }
echo "$n documentation example(s) check cleanly"
