#!/usr/bin/env bash
# Reliability: two real runs on one store at once: the second waits for the first (or fails
# with a clear message); never a double send.  usage: concurrent_runs.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/examples/campaigns/playbook.crm"
"$crm" sample --db "$work/a.db" --customers 3000 --seed 11 --as-of 2026-11-24 >/dev/null
cp "$work/a.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from 2026-11-10 --to 2026-11-24 >/dev/null
"$crm" run "$script" --db "$work/a.db" --from 2026-11-10 --to 2026-11-24 >"$work/1.out" 2>"$work/1.err" &
p1=$!
"$crm" run "$script" --db "$work/a.db" --from 2026-11-10 --to 2026-11-24 >"$work/2.out" 2>"$work/2.err" &
p2=$!
s1=0; s2=0
wait $p1 || s1=$?
wait $p2 || s2=$?
echo "exit codes: $s1 $s2"
for i in 1 2; do
  st=$([ $i = 1 ] && echo $s1 || echo $s2)
  if [ "$st" != 0 ] && ! grep -q "lock" "$work/$i.err"; then echo "FAIL: run $i failed without naming the lock:"; cat "$work/$i.err"; exit 1; fi
done
a=$(sqlite3 "$work/a.db" "select idem_key from outbox order by 1" | md5sum)
b=$(sqlite3 "$work/ref.db" "select idem_key from outbox order by 1" | md5sum)
[ "$a" = "$b" ] || { echo "FAIL: the outbox differs from a single run"; exit 1; }
echo "two concurrent runs: outbox identical to a single run"
