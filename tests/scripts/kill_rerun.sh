#!/usr/bin/env bash
# Reliability: a real run killed with SIGKILL at random moments, then rerun, leaves the outbox
# with every action exactly once — compared with an uninterrupted run of the same days.
# usage: kill_rerun.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/examples/campaigns/playbook.crm"
"$crm" sample --db "$work/base.db" --customers 3000 --seed 7 --as-of 2026-11-24 >/dev/null
from=2026-11-01; to=2026-11-24
q() { sqlite3 "$1" "$2"; }

cp "$work/base.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from $from --to $to >/dev/null
ref_rows=$(q "$work/ref.db" "select count(*) from outbox")
ref_sum=$(q "$work/ref.db" "select idem_key from outbox order by idem_key" | md5sum)
[ "$ref_rows" -gt 0 ] || { echo "FAIL: the reference run wrote nothing"; exit 1; }

for attempt in 1 2 3 4 5; do
  cp "$work/base.db" "$work/k.db"
  "$crm" run "$script" --db "$work/k.db" --from $from --to $to >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  partial=$(q "$work/k.db" "select count(*) from outbox")
  "$crm" run "$script" --db "$work/k.db" --from $from --to $to >/dev/null
  rows=$(q "$work/k.db" "select count(*) from outbox")
  sum=$(q "$work/k.db" "select idem_key from outbox order by idem_key" | md5sum)
  dups=$(q "$work/k.db" "select count(*) from (select customer_id, rule, action, target, run_date from outbox group by 1,2,3,4,5 having count(*) > 1)")
  echo "attempt $attempt: $partial rows before the kill, $rows after the rerun (reference $ref_rows), duplicates $dups"
  [ "$rows" = "$ref_rows" ] || { echo "FAIL: row count differs from the reference"; exit 1; }
  [ "$sum" = "$ref_sum" ] || { echo "FAIL: the outbox differs from the reference"; exit 1; }
  [ "$dups" = 0 ] || { echo "FAIL: duplicate actions"; exit 1; }
done
echo "kill -9 and rerun: outbox identical to the uninterrupted run"
