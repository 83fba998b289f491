#!/usr/bin/env bash
# Reliability (issue 12.2): a FIRST real run killed (kill -9) before any day commits, then a
# plain `crm run`: catch-up starts at the interrupted day, says so, names the dead process, and
# the outbox equals an uninterrupted run's.  usage: kill_first_run.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/examples/campaigns/playbook.crm"
export CRM_TODAY=2026-11-24
"$crm" sample --db "$work/base.db" --customers 20000 --seed 5 --as-of 2026-11-24 >/dev/null
cp "$work/base.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from 2026-11-01 --to 2026-11-24 >/dev/null
killed=0
for attempt in 1 2 3 4 5; do
  cp "$work/base.db" "$work/a.db"; rm -f "$work/a.db-wal" "$work/a.db-shm"
  "$crm" run "$script" --db "$work/a.db" --from 2026-11-01 --to 2026-11-24 >/dev/null 2>&1 &
  pid=$!
  # Kill as soon as the first day is marked 'running' (before the store is even loaded).
  for _ in $(seq 1 400); do
    n=$(sqlite3 "file:$work/a.db?mode=ro" "select count(*) from runs where status='running'" 2>/dev/null || echo 0)
    [ "$n" != 0 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.005
  done
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  done_days=$(sqlite3 "$work/a.db" "select count(*) from runs where status='completed'")
  running=$(sqlite3 "$work/a.db" "select count(*) from runs where status='running'")
  if [ "$done_days" = 0 ] && [ "$running" != 0 ]; then killed=1; break; fi
  echo "attempt $attempt: killed too late or too early (completed=$done_days running=$running), again"
done
[ $killed = 1 ] || { echo "FAIL: never caught the run before its first day committed"; exit 1; }
# An explicit later day (on a copy) warns that the interrupted day is still to run.
cp "$work/a.db" "$work/b.db"
"$crm" run "$script" --db "$work/b.db" --date 2026-11-24 >/dev/null 2>"$work/late.err"
grep -q "warning: the run of 2026-11-01 did not complete.*plain .crm run" "$work/late.err" \
  || { echo "FAIL: a run of a later day did not warn of the interrupted one:"; cat "$work/late.err"; exit 1; }
"$crm" run "$script" --db "$work/a.db" >"$work/resume.out" 2>"$work/resume.err"
cat "$work/resume.err"
grep -q "resuming at 2026-11-01" "$work/resume.err" || { echo "FAIL: catch-up did not say it resumes at the interrupted day"; exit 1; }
grep -q "is gone" "$work/resume.err" || { echo "FAIL: the dead run's process was not recognised"; exit 1; }
left=$(sqlite3 "$work/a.db" "select count(*) from runs where status='running'")
[ "$left" = 0 ] || { echo "FAIL: $left 'running' row(s) left after catch-up"; exit 1; }
a=$(sqlite3 "$work/a.db" "select idem_key from outbox order by 1" | md5sum)
b=$(sqlite3 "$work/ref.db" "select idem_key from outbox order by 1" | md5sum)
[ "$a" = "$b" ] || { echo "FAIL: the outbox after catch-up differs from an uninterrupted run's"; exit 1; }
echo "first run killed before its first day, then crm run: the backlog is written ($(sqlite3 "$work/a.db" "select count(*) from outbox") rows)"
