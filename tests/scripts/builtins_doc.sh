#!/usr/bin/env bash
# docs/builtins.md is generated from lang/builtins.def (the registry of builtin attributes and
# functions) by `crm check --list-builtins`: any difference means the docs drifted from the
# registry.  usage: builtins_doc.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$crm" check --list-builtins > "$work/builtins.md"
if ! diff -u "$root/docs/builtins.md" "$work/builtins.md"; then
  echo "FAIL: docs/builtins.md differs from the registry lang/builtins.def."
  echo "Regenerate it with: build/engine/crm check --list-builtins > docs/builtins.md"
  exit 1
fi
# Every attribute and function of the registry appears in the reference.
n=$(grep -c '^CRM_\(ATTRIBUTE\|FUNCTION\)(' "$root/lang/builtins.def")
rows=$(grep -c '^| `' "$work/builtins.md")
[ "$n" = "$rows" ] || { echo "FAIL: $n registry entries but $rows rows in the reference"; exit 1; }
echo "docs/builtins.md matches lang/builtins.def ($rows entries)"
