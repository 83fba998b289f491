#!/usr/bin/env bash
# docs/checker.md documents every diagnostic code of lang/diagnostic_codes.def in its tables
# (a row "| CODE | example |"), and no doc names a code that is not in the table: a code added,
# renamed or removed without its documentation fails here. And lang/ and engine/ report codes
# through the constants of lang/diagnostic_codes.hpp only: a string literal "E-..." in their code
# (outside the .def and the public API's comments) fails.  usage: diagnostic_codes.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$crm" check --list-codes | awk '{print $1}' | sort -u > "$work/codes"
n=$(grep -c '^CRM_DIAGNOSTIC(' "$root/lang/diagnostic_codes.def")
[ "$n" = "$(wc -l < "$work/codes")" ] || { echo "FAIL: $n rows in diagnostic_codes.def but --list-codes prints $(wc -l < "$work/codes")"; exit 1; }
grep -oE '^\| [EW]-[a-z0-9-]+ \|' "$root/docs/checker.md" | sed -E 's/^\| //; s/ \|$//' | sort -u > "$work/rows"
fail=0
missing=$(comm -23 "$work/codes" "$work/rows")
if [ -n "$missing" ]; then
  echo "FAIL: docs/checker.md has no table row for:"; echo "$missing"; fail=1
fi
# Any code named in the docs (or the README) must exist ("W-unused-*" is a pattern, not a code).
grep -ohE '\b[EW]-[a-z0-9]+(-[a-z0-9]+)*\b' "$root"/docs/*.md "$root/README.md" | grep -v '^W-unused$' | sort -u > "$work/named"
unknown=$(comm -23 "$work/named" "$work/codes")
if [ -n "$unknown" ]; then
  echo "FAIL: the docs name codes that lang/diagnostic_codes.def does not have:"; echo "$unknown"; fail=1
fi
# Every code explains itself.
while read -r c; do
  "$crm" check --explain "$c" | grep -q "^$c (" || { echo "FAIL: crm check --explain $c"; fail=1; }
done < "$work/codes"
# No literal codes in the sources (comments may name them).
literals=$(cd "$root" && grep -rnE '"[EW]-[a-z0-9]+(-[a-z0-9]+)*"' lang engine --include='*.cpp' --include='*.hpp' --include='*.h' \
  | grep -v '^engine/include/' | sed -E 's,//.*$,,' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*)' \
  | grep -E '"[EW]-[a-z0-9]+(-[a-z0-9]+)*"' || true)
if [ -n "$literals" ]; then
  echo "FAIL: diagnostic codes written as literals (use lang::code::NAME from lang/diagnostic_codes.hpp):"
  echo "$literals"; fail=1
fi
[ "$fail" = 0 ] && echo "docs/checker.md documents all $n diagnostic codes"
exit $fail
