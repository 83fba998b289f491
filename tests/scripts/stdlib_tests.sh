#!/usr/bin/env bash
# The standard library's own tests pass: `crm test stdlib/` runs every stdlib/*_test.crm
# against the modules of the source tree, and there are at least 60 of them, expected absences
# included.  usage: stdlib_tests.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if ! CRM_STDLIB="$root/stdlib" NO_COLOR=1 "$crm" test "$root/stdlib/" > "$work/out" 2>&1; then
  echo "FAIL: crm test stdlib/"; cat "$work/out"; exit 1
fi
summary=$(tail -n 1 "$work/out")
passed=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p')
[ -n "$passed" ] || { echo "FAIL: unexpected summary line: $summary"; cat "$work/out"; exit 1; }
[ "$passed" -ge 60 ] || { echo "FAIL: only $passed stdlib tests (at least 60 expected)"; exit 1; }
absences=$(cat "$root"/stdlib/*_test.crm | grep -c '^ *expect no ')
[ "$absences" -ge 20 ] || { echo "FAIL: only $absences expected absences"; exit 1; }
# Every module has a test file.
for m in "$root"/stdlib/*.crm; do
  case "$m" in *_test.crm) continue ;; esac
  t="${m%.crm}_test.crm"
  [ -f "$t" ] || { echo "FAIL: $(basename "$m") has no $(basename "$t")"; exit 1; }
done
echo "stdlib: $summary ($absences expected absences)"
