#!/usr/bin/env bash
# Reliability (issue 12.1): two runs at once on ONE store reached through a symlink and a hard
# link take the same run lock: the outbox equals a sequential run's, no "malformed" error.
# usage: concurrent_links.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/examples/campaigns/playbook.crm"
"$crm" sample --db "$work/a.db" --customers 30000 --seed 11 --as-of 2026-11-24 >/dev/null
cp "$work/a.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from 2026-10-20 --to 2026-11-24 >/dev/null
mkdir "$work/other"
ln -s "$work/a.db" "$work/other/sym.db"
ln "$work/a.db" "$work/other/hard.db"
"$crm" run "$script" --db "$work/other/sym.db" --from 2026-10-20 --to 2026-11-24 >"$work/1.out" 2>"$work/1.err" &
p1=$!
"$crm" run "$script" --db "$work/other/hard.db" --from 2026-10-20 --to 2026-11-24 >"$work/2.out" 2>"$work/2.err" &
p2=$!
s1=0; s2=0
wait $p1 || s1=$?
wait $p2 || s2=$?
echo "exit codes: $s1 $s2"
for i in 1 2; do
  st=$([ $i = 1 ] && echo $s1 || echo $s2)
  if [ "$st" != 0 ]; then
    grep -q "another crm run" "$work/$i.err" || { echo "FAIL: run $i failed without naming the lock:"; cat "$work/$i.err"; exit 1; }
  fi
done
a=$(sqlite3 "$work/a.db" "select idem_key from outbox order by 1" | md5sum)
b=$(sqlite3 "$work/ref.db" "select idem_key from outbox order by 1" | md5sum)
[ "$a" = "$b" ] || { echo "FAIL: the outbox differs from a sequential run's"; exit 1; }
# crm event takes the same lock: while a run holds it (through the symlink), an event through
# the file's own name waits for it instead of writing in the middle of the run. (Not through the
# hard link: SQLite cannot read a database through one hard-linked name while another name
# writes it, each name having its own -wal; docs/hardening.md.)
"$crm" run "$script" --db "$work/other/sym.db" --from 2026-11-25 --to 2026-12-05 >/dev/null 2>&1 &
p3=$!
sleep 0.3
"$crm" event "$script" --db "$work/a.db" --customer 1 --type cancel_request --date 2026-12-05 >"$work/ev.out" 2>&1 || true
wait $p3
grep -q "written" "$work/ev.out" || { echo "FAIL: the event did not run after the run:"; cat "$work/ev.out"; exit 1; }
echo "runs through a symlink and a hard link: outbox identical to a sequential run's"
