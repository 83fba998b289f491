#!/usr/bin/env bash
# The outbox key in customer order (schema version 5, issue 17) on a real, throwaway PostgreSQL
# server (pg_lib.sh): new rows' idem_hash carry the customer id in their high 32 bits; a version 4
# store (other values) is refused by `crm run` until `crm init` makes every value again, keeping
# rows and ids; reruns then add nothing and the next day writes once.
# usage: pg_outbox_key_v5.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
source "$root/tests/scripts/pg_lib.sh"
pg_start
work="$PGTMP/work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
script="$root/examples/campaigns/playbook.crm"
uri=$(pg_newdb shop)
"$crm" sample --db "$uri" --customers 2000 --seed 3 --as-of 2026-11-24 >/dev/null 2>&1
"$crm" run "$script" --db "$uri" --from 2026-11-21 --to 2026-11-23 >/dev/null
n=$(psql_q shop "select count(*) from outbox")
[ "$n" -gt 50 ] || fail "the runs wrote only $n outbox rows"
[ "$(psql_q shop "select count(*) from outbox where idem_hash is null or (idem_hash >> 32) <> customer_id")" = 0 ] ||
  fail "a new row's idem_hash lacks its customer id"
# Back to version 4: values of another function (here: shifted by one).
psql_q shop "select id, idem_key from outbox order by id" >rows.before
psql_q shop "DROP INDEX outbox_idem_hash; UPDATE outbox SET idem_hash = idem_hash + 1;
  CREATE UNIQUE INDEX outbox_idem_hash ON outbox (idem_hash); UPDATE meta SET value = '4' WHERE key = 'schema_version'"
if "$crm" run "$script" --db "$uri" --date 2026-11-23 >old.out 2>old.err; then fail "crm run used a version 4 store"; fi
grep -q "crm init" old.err || fail "no hint to migrate: $(cat old.err)"
"$crm" init --db "$uri" >init.out
grep -q "from schema version 4 to 6" init.out || fail "init said: $(cat init.out)"
psql_q shop "select id, idem_key from outbox order by id" >rows.after
cmp -s rows.before rows.after || fail "the migration changed the outbox rows or ids"
[ "$(psql_q shop "select count(*) from outbox where idem_hash is null or (idem_hash >> 32) <> customer_id")" = 0 ] ||
  fail "the migration left values without the customer id"
"$crm" run "$script" --db "$uri" --from 2026-11-21 --to 2026-11-23 >/dev/null
[ "$(psql_q shop "select count(*) from outbox")" = "$n" ] || fail "reruns after the migration added rows"
"$crm" run "$script" --db "$uri" --date 2026-11-24 >/dev/null
m=$(psql_q shop "select count(*) from outbox")
"$crm" run "$script" --db "$uri" --date 2026-11-24 >/dev/null
[ "$(psql_q shop "select count(*) from outbox")" = "$m" ] || fail "a rerun of the new day added rows"
[ "$(psql_q shop "select count(distinct idem_key) from outbox")" = "$m" ] || fail "duplicate idem_key texts"
no_secret init.out old.err
echo "ok: $n rows rehashed, reruns added none, the next day added $((m - n))"
