#!/usr/bin/env bash
# Schema version 6 (issue 17): outbox_by_run_date is dropped, and the loader reads the outbox in
# id order. A version 5 store (with the index) is refused by `crm run` until `crm init` migrates
# it; the migration keeps every row and id. A store with a day run after a later one (ids not in
# date order) gives the same actions as the same rows renumbered in date order, and reruns of
# its days add nothing (the loader's order itself: tests/unit/test_outbox_order.cpp).
# usage: outbox_run_date_index.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
script="$root/examples/campaigns/playbook.crm"
cd "$work"
"$crm" sample --db shop.db --customers 3000 --seed 7 --as-of 2026-11-24 >/dev/null
index_count() { sqlite3 "$1" "select count(*) from sqlite_master where type = 'index' and name = 'outbox_by_run_date'"; }
[ "$(index_count shop.db)" = 0 ] || fail "a new store has outbox_by_run_date"
# Days 21-23, then the 18th-20th backfilled after them: ids no longer follow run_date.
"$crm" run "$script" --db shop.db --from 2026-11-21 --to 2026-11-23 >/dev/null
"$crm" run "$script" --db shop.db --from 2026-11-18 --to 2026-11-20 >/dev/null
rows=$(sqlite3 shop.db "select count(*) from outbox")
[ "$rows" -gt 0 ] || fail "the runs wrote no outbox rows"
[ "$(sqlite3 shop.db "select count(*) from outbox a join outbox b on b.id = a.id + 1 where b.run_date < a.run_date")" -gt 0 ] ||
  fail "the backfill left the ids in date order (the test would prove nothing)"
sqlite3 shop.db "select id, run_date, idem_key from outbox order by id" >rows.before
# Back to version 5: the index and the version.
sqlite3 shop.db "CREATE INDEX outbox_by_run_date ON outbox (run_date); UPDATE meta SET value = '5' WHERE key = 'schema_version'"
if "$crm" run "$script" --db shop.db --date 2026-11-24 --dry-run >old.out 2>old.err; then fail "crm run used a version 5 store"; fi
grep -q "crm init --db" old.err || fail "no hint to migrate: $(cat old.err)"
"$crm" init --db shop.db >init.out
grep -q "migrated shop.db from schema version 5 to 6" init.out || fail "init said: $(cat init.out)"
[ "$(index_count shop.db)" = 0 ] || fail "the migration kept outbox_by_run_date"
sqlite3 shop.db "select id, run_date, idem_key from outbox order by id" >rows.after
cmp -s rows.before rows.after || fail "the migration changed the outbox rows or ids"
"$crm" init --db shop.db >init2.out
[ "$(index_count shop.db)" = 0 ] || fail "a second init made outbox_by_run_date again"
# The same rows renumbered in (run_date, id) order: the loader's sorted and as-is reads agree.
cp shop.db sorted.db
sqlite3 sorted.db "CREATE TABLE o2 AS SELECT * FROM outbox ORDER BY run_date, id; DELETE FROM outbox;
  INSERT INTO outbox SELECT NULL, run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at, idem_hash
  FROM o2 ORDER BY rowid; DROP TABLE o2"
[ "$(sqlite3 sorted.db "select count(*) from outbox")" = "$rows" ] || fail "the renumbered copy lost rows"
for d in 2026-11-21 2026-11-24; do
  "$crm" run "$script" --db shop.db --date $d --dry-run --format jsonl >backfilled.$d
  "$crm" run "$script" --db sorted.db --date $d --dry-run --format jsonl >sorted.$d
  [ -s sorted.$d ] || fail "no actions on $d"
  cmp -s backfilled.$d sorted.$d || fail "$d: the backfilled store's actions differ from the date-ordered copy's"
done
# Reruns of every day add nothing; the next day writes, once.
"$crm" run "$script" --db shop.db --from 2026-11-18 --to 2026-11-23 >rerun.out
[ "$(sqlite3 shop.db "select count(*) from outbox")" = "$rows" ] || fail "reruns added rows"
"$crm" run "$script" --db shop.db --date 2026-11-24 >next.out
"$crm" run "$script" --db shop.db --date 2026-11-24 >next2.out
grep -q "^0 new outbox row(s) written" next2.out || fail "a rerun of the new day wrote rows"
after=$(sqlite3 shop.db "select count(*) from outbox")
[ "$(sqlite3 shop.db "select count(distinct idem_key) from outbox")" = "$after" ] || fail "duplicate idem_key texts"
echo "ok: $rows rows (backfilled) migrated to version 6, same actions as in date order, the next day added $((after - rows))"
