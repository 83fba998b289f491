#!/usr/bin/env bash
# The outbox's narrow key (schema version 4, issue 17): a store whose outbox is still version 3's
# (UNIQUE text idem_key, outbox_by_rule, no idem_hash) is refused by `crm run` until `crm init`
# migrates it; the migration keeps every row and id, and rerunning a day already written then
# adds no duplicate, while the next day still writes its rows. Then version 5 (the customer id in
# idem_hash's high 32 bits): a version 4 store's values are made again by `crm init`, and reruns
# still add nothing.
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
grep -q "migrated shop.db from schema version 3 to 6" init.out || fail "init said: $(cat init.out)"
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
# Back to version 4: the same layout, values of another function (here: shifted by one).
sqlite3 shop.db "select id, idem_key from outbox order by id" >rows4.before
sqlite3 shop.db "DROP INDEX outbox_idem_hash; UPDATE outbox SET idem_hash = idem_hash + 1;
  CREATE UNIQUE INDEX outbox_idem_hash ON outbox (idem_hash); UPDATE meta SET value = '4' WHERE key = 'schema_version'"
if "$crm" run "$script" --db shop.db --date 2026-11-24 >old4.out 2>old4.err; then fail "crm run used a version 4 store"; fi
grep -q "crm init --db" old4.err || fail "no hint to migrate version 4: $(cat old4.err)"
"$crm" init --db shop.db >init4.out
grep -q "migrated shop.db from schema version 4 to 6" init4.out || fail "init said: $(cat init4.out)"
sqlite3 shop.db "select id, idem_key from outbox order by id" >rows4.after
cmp -s rows4.before rows4.after || fail "the version 5 migration changed the outbox rows or ids"
[ "$(sqlite3 shop.db "select count(*) from outbox where idem_hash is null or (idem_hash >> 32) != customer_id")" = 0 ] ||
  fail "idem_hash without the customer id in its high 32 bits"
"$crm" run "$script" --db shop.db --from 2026-11-20 --to 2026-11-24 >rerun5.out
grep -q "^0 new outbox row(s) written" rerun5.out || fail "a rerun after the version 5 migration wrote rows"
[ "$(sqlite3 shop.db "select count(*) from outbox")" = "$after" ] || fail "reruns after version 5 added rows"
echo "ok: $before rows migrated, reruns added none, the next day added $((after - before)); version 5 rehashed $after"
