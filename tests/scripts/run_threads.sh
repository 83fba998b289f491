#!/usr/bin/env bash
# A day's rules split over threads give the outputs of one thread, end to end: on a sample store
# of 100,000 customers (three ranges of rows with CRM_RUN_THREADS=3), a dry run's jsonl, a 20-day
# simulate's jsonl and two real runs' outbox and tags are byte-identical with CRM_RUN_THREADS=1,
# and --stats says how many threads ran (docs/evaluator.md, "A day on several threads").
# usage: run_threads.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/tests/bench/playbook20.crm"
"$crm" sample --db "$work/base.db" --customers 100000 --orders-per-customer 2 --seed 7 --as-of 2026-11-24 >/dev/null 2>&1
for t in 1 3; do
  cp "$work/base.db" "$work/t$t.db"
  CRM_RUN_THREADS=$t "$crm" run "$script" --db "$work/t$t.db" --date 2026-11-24 --dry-run --format jsonl \
    --stats >"$work/dry$t.jsonl" 2>"$work/dry$t.err"
  CRM_RUN_THREADS=$t "$crm" simulate "$script" --db "$work/t$t.db" --from 2026-11-05 --to 2026-11-24 --format jsonl \
    --stats >"$work/sim$t.jsonl" 2>"$work/sim$t.err"
  for d in 2026-11-23 2026-11-24; do
    CRM_RUN_THREADS=$t "$crm" run "$script" --db "$work/t$t.db" --date $d >/dev/null 2>&1
  done
  sqlite3 "$work/t$t.db" "SELECT id, run_date, customer_id, rule, action, target, channel, payload, idem_key FROM outbox ORDER BY id" >"$work/outbox$t"
  sqlite3 "$work/t$t.db" "SELECT customer_id, tag, set_at FROM tags ORDER BY rowid" >"$work/tags$t"
done
grep -q "rules on 1 thread(s) on 0 of 1 day(s)" "$work/dry1.err" || { echo "FAIL: one thread: $(tail -1 "$work/dry1.err")"; exit 1; }
grep -q "rules on 3 thread(s) on 1 of 1 day(s)" "$work/dry3.err" || { echo "FAIL: three threads: $(tail -1 "$work/dry3.err")"; exit 1; }
grep -q "rules on 3 thread(s) on 20 of 20 day(s)" "$work/sim3.err" || { echo "FAIL: simulate: $(tail -1 "$work/sim3.err")"; exit 1; }
for f in dry sim outbox tags; do
  a="$work/${f}1"; b="$work/${f}3"
  [ -f "$a" ] || { a="$a.jsonl"; b="$b.jsonl"; }
  [ "$(wc -l <"$a")" -gt 100 ] || { echo "FAIL: $f has only $(wc -l <"$a") lines"; exit 1; }
  cmp -s "$a" "$b" || { echo "FAIL: $f differs between 1 and 3 threads"; diff "$a" "$b" | head; exit 1; }
  echo "$f: $(wc -l <"$a") lines, the same on 1 and 3 threads"
done
