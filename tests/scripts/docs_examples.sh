#!/usr/bin/env bash
# Every ```crm block of README.md and docs/*.md is a complete script that `crm check` accepts,
# so the documentation cannot drift from the language. Blocks are checked next to copies of
# examples/campaigns/*.crm, so a block may `import "winback.crm"`; a block that declares tests
# (`test "NAME" { ... }`) must also pass `crm test`.  usage: docs_examples.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$root"/examples/campaigns/*.crm "$work"/
n=0; t=0
for doc in "$root"/README.md "$root"/docs/*.md; do
  awk -v dir="$work" -v base="$(basename "$doc" .md)" '
    /^```crm[[:space:]]*$/ { inblock = 1; k++; file = sprintf("%s/doc_%s_%d.crm", dir, base, k); next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }' "$doc"
done
for f in "$work"/doc_*.crm; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  if ! "$crm" check "$f" > "$work/out" 2>&1; then echo "FAIL: $(basename "$f")"; cat "$work/out"; exit 1; fi
  if grep -q '^test "' "$f"; then
    t=$((t + 1))
    if ! "$crm" test "$f" > "$work/out" 2>&1; then echo "FAIL: the tests of $(basename "$f")"; cat "$work/out"; exit 1; fi
  fi
done
[ "$n" -gt 0 ] || { echo "FAIL: no crm examples found in the docs"; exit 1; }
echo "$n documentation example(s) check cleanly, $t of them with passing tests"
