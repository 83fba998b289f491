#!/usr/bin/env bash
# The outbox's narrow key (schema version 4, issue 17): a store whose outbox is still version 3's
# (UNIQUE text idem_key, outbox_by_rule, no idem_hash) is refused by `crm run` until `crm init`
# migrates it; the migration keeps every row and id, and rerunning a day already written then
# adds no duplicate, while the next day still writes its rows.
# usage: outbox_key_migration.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
script="$root/examples/campaigns/playbook.crm"
cd "$work"
"$crm" sample --db shop.db --customers 3000 --seed 5 --as-of 2026-11-24 >/dev/null
"$crm" run "$script" --db shop.db --from 2026-11-20 --to 2026-11-23 >/dev/null
before=$(sqlite3 shop.db "select count(*) from outbox")
[ "$before" -gt 0 ] || fail "the runs wrote no outbox rows"
sqlite3 shop.db "select id, idem_key from outbox order by id" >rows.before
# Back to the version 3 layout.
sqlite3 shop.db <<'SQL'
CREATE TABLE outbox_v3 (
  id INTEGER PRIMARY KEY, run_date DATE, customer_id INTEGER, rule TEXT, action TEXT,
  target TEXT, channel TEXT, payload TEXT, idem_key TEXT UNIQUE, created_at TEXT);
INSERT INTO outbox_v3 SELECT id, run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
CREATE INDEX outbox_by_rule ON outbox (rule, customer_id);
CREATE INDEX outbox_by_run_date ON outbox (run_date);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
SQL
if "$crm" run "$script" --db shop.db --date 2026-11-23 >old.out 2>old.err; then fail "crm run used a version 3 store"; fi
grep -q "crm init --db" old.err || fail "no hint to migrate: $(cat old.err)"
"$crm" init --db shop.db >init.out
grep -q "migrated shop.db from schema version 3 to 4" init.out || fail "init said: $(cat init.out)"
sqlite3 shop.db "select id, idem_key from outbox order by id" >rows.after
cmp -s rows.before rows.after || fail "the migration changed the outbox rows or ids"
[ "$(sqlite3 shop.db "select count(*) from outbox where idem_hash is null")" = 0 ] || fail "rows without idem_hash"
[ "$(sqlite3 shop.db "select count(*) from sqlite_master where name = 'outbox_by_rule'")" = 0 ] || fail "outbox_by_rule kept"
[ "$(sqlite3 shop.db "select count(*) from sqlite_master where tbl_name = 'outbox' and type = 'index' and name like 'sqlite_autoindex%'")" = 0 ] ||
  fail "the text key is still indexed"
# Rerun the last day and the whole range: nothing new.
"$crm" run "$script" --db shop.db --date 2026-11-23 >rerun.out
grep -q "^0 new outbox row(s) written" rerun.out || fail "rerun wrote rows: $(tail -1 rerun.out)"
"$crm" run "$script" --db shop.db --from 2026-11-20 --to 2026-11-23 >/dev/null
[ "$(sqlite3 shop.db "select count(*) from outbox")" = "$before" ] || fail "reruns added rows"
# The next day writes, once.
"$crm" run "$script" --db shop.db --date 2026-11-24 >next.out
"$crm" run "$script" --db shop.db --date 2026-11-24 >next2.out
grep -q "^0 new outbox row(s) written" next2.out || fail "a rerun of the new day wrote rows"
after=$(sqlite3 shop.db "select count(*) from outbox")
[ "$(sqlite3 shop.db "select count(distinct idem_key) from outbox")" = "$after" ] || fail "duplicate idem_key texts"
echo "ok: $before rows migrated, reruns added none, the next day added $((after - before))"
