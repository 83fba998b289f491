#!/usr/bin/env bash
# Runs one golden case: tests/golden/<command>/<case>/ holds `cmd` (crm's arguments, one line
# per invocation, run in order from a scratch copy of the folder; with several lines each
# output is preceded by a "$ crm ..." line and `exit` is the last one's), inputs (.crm files, optional store.sql loaded into
# store.db), and the expected `stdout`, `stderr` (optional) and `exit` (default 0).
# CRM_UPDATE_GOLDEN=1 rewrites the expected files from the actual output.
set -uo pipefail
crm="$1"; case_dir="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$case_dir"/. "$work"/
cd "$work"
if [ -f store.sql ]; then
  "$crm" init --db store.db >/dev/null || { echo "crm init failed"; exit 1; }
  sqlite3 -bail store.db < store.sql || { echo "store.sql failed"; exit 1; }
fi
# An optional `env` file sets variables for the case (e.g. CRM_TODAY to pin "today").
if [ -f env ]; then set -a; . ./env; set +a; fi
: > actual.stdout; : > actual.stderr
lines=$(grep -c . cmd)
code=0
while read -r -a argv; do
  [ ${#argv[@]} -eq 0 ] && continue
  if [ "$lines" -gt 1 ]; then echo "\$ crm ${argv[*]}" >> actual.stdout; echo "\$ crm ${argv[*]}" >> actual.stderr; fi
  NO_COLOR=1 "$crm" "${argv[@]}" >> actual.stdout 2>> actual.stderr < /dev/null
  code=$?
done < cmd
if [ "$lines" -gt 1 ] && [ "$(grep -vc '^\$ crm' actual.stderr)" = 0 ]; then : > actual.stderr; fi
if [ "${CRM_UPDATE_GOLDEN:-}" = 1 ]; then
  cp actual.stdout "$case_dir/stdout"
  if [ -s actual.stderr ]; then cp actual.stderr "$case_dir/stderr"; else rm -f "$case_dir/stderr"; fi
  echo "$code" > "$case_dir/exit"
  exit 0
fi
fail=0
expected_exit=0; [ -f exit ] && expected_exit=$(cat exit)
if [ "$code" != "$expected_exit" ]; then echo "exit code: expected $expected_exit, got $code"; fail=1; fi
if ! diff -u stdout actual.stdout; then fail=1; fi
if [ -f stderr ]; then diff -u stderr actual.stderr || fail=1
elif [ -s actual.stderr ]; then echo "unexpected stderr:"; cat actual.stderr; fail=1; fi
exit $fail
