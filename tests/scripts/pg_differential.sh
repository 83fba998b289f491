#!/usr/bin/env bash
# SQLite vs PostgreSQL on a real, throwaway server (pg_lib.sh): the sample shop and a store of odd
# data give byte-identical dry runs (30 days, jsonl), simulate jsonl, explain, warnings, and the
# same outbox and tags after real runs and an event; plus the clear one-line errors (unreachable,
# authentication failed, not a crm store, newer schema) and that the password is never printed.
# usage: pg_differential.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
source "$root/tests/scripts/pg_lib.sh"
pg_start
work="$PGTMP/work"; mkdir -p "$work"; cd "$work"
errs=()  # crm outputs on PostgreSQL, checked for the password at the end
export CRM_TODAY=2026-11-24
fail() { echo "FAIL: $*" >&2; exit 1; }
same() {  # same A B WHAT
  cmp -s "$1" "$2" || { diff "$1" "$2" | head -20 >&2; fail "$3 differs between SQLite and PostgreSQL"; }
  echo "ok: $3 ($(wc -l <"$1") lines)"
}
# The outbox and tags of a store, one normalised line per row (payload JSON with sorted keys).
dump_sqlite() {
  sqlite3 -separator '|' "$1" "select run_date, customer_id, rule, action, target, coalesce(channel,'-'), idem_key, payload from outbox order by idem_key" | norm
  sqlite3 -separator '|' "$1" "select 'tag', customer_id, tag, coalesce(substr(set_at, 1, 10),'-') from tags order by customer_id, tag"
}
dump_pg() {
  psql_q "$1" "select run_date, customer_id, rule, action, target, coalesce(channel,'-'), idem_key, payload::text from outbox order by idem_key collate \"C\"" | norm
  psql_q "$1" "select 'tag', customer_id, tag, coalesce(set_at::text,'-') from tags order by customer_id, tag collate \"C\""
}
norm() { python3 -c '
import sys, json
for line in sys.stdin:
    head, _, payload = line.rstrip("\n").rpartition("|")
    print(head + "|" + json.dumps(json.loads(payload), sort_keys=True))'; }

# --- the sample shop
"$crm" sample --db shop.db --customers 1500 --seed 11 2>/dev/null
"$crm" sample --db "$PGURI" --customers 1500 --seed 11 2>sample.err
grep -q "wrote postgresql://crm@127.0.0.1" sample.err || { cat sample.err; fail "sample on PostgreSQL did not report the scrubbed URI"; }
playbook="$root/examples/campaigns/playbook.crm"
for db in shop.db "$PGURI"; do
  tag=$([ "$db" = shop.db ] && echo sq || echo pg)
  "$crm" run "$playbook" --db "$db" --from 2026-10-26 --to 2026-11-24 --dry-run --format jsonl >"run.$tag" 2>"run.$tag.err"
  "$crm" simulate "$playbook" --db "$db" --from 2026-11-01 --to 2026-11-24 --format jsonl >"sim.$tag" 2>"sim.$tag.err"
  for c in 1 7 42 1500; do "$crm" explain "$playbook" --db "$db" --customer $c --date 2026-11-20; done >"explain.$tag" 2>&1
done
[ "$(wc -l <run.sq)" -gt 100 ] || fail "the sample dry run gave too few actions"
same run.sq run.pg "sample shop: run --dry-run --format jsonl over 30 days"
same run.sq.err run.pg.err "sample shop: run warnings"
same sim.sq sim.pg "sample shop: simulate --format jsonl"
same explain.sq explain.pg "sample shop: explain of 4 customers"

# crm import sqlite: the SQLite store copied into an empty database reads the same; a second
# copy into it is refused (it holds customers), and the target must be PostgreSQL
copy_uri=$(pg_newdb copied)
"$crm" import sqlite --db "$copy_uri" shop.db 2>copy.err || { cat copy.err; fail "import sqlite"; }
"$crm" run "$playbook" --db "$copy_uri" --from 2026-10-26 --to 2026-11-24 --dry-run --format jsonl >copy.pg 2>/dev/null
same run.sq copy.pg "import sqlite: the copied store's dry run over 30 days"
set +e; "$crm" import sqlite --db "$copy_uri" shop.db >/dev/null 2>copy2.err; rc=$?; set -e
[ $rc = 1 ] && grep -q "already holds customers" copy2.err || fail "import sqlite into a non-empty store: exit $rc, $(cat copy2.err)"
set +e; "$crm" import sqlite --db other.db shop.db >/dev/null 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || fail "import sqlite into a SQLite file: exit $rc, expected 2 (usage)"
errs+=(copy.err copy2.err)

# shard runs: each backend reads only the shard's rows (the hash computed in SQL) and gives the
# same actions; the shards together are the whole day
for db in shop.db "$PGURI"; do
  tag=$([ "$db" = shop.db ] && echo sq || echo pg)
  for k in 1 2 3; do "$crm" run "$playbook" --db "$db" --date 2026-11-20 --dry-run --format jsonl --shard $k/3; done >"shards.$tag"
done
same shards.sq shards.pg "sample shop: run --dry-run --shard K/3 for each K"
"$crm" run "$playbook" --db shop.db --date 2026-11-20 --dry-run --format jsonl | sort >whole.sq
sort shards.sq | cmp -s - whole.sq || fail "the 3 shards' actions are not the whole day's"

# real runs (catch-up over 6 days), a rerun that writes nothing, and one real-time event
for db in shop.db "$PGURI"; do
  tag=$([ "$db" = shop.db ] && echo sq || echo pg)
  "$crm" run "$playbook" --db "$db" --from 2026-11-15 --to 2026-11-20 >"real.$tag"
  CRM_TODAY=2026-11-21 "$crm" run "$playbook" --db "$db" >>"real.$tag"          # catch-up: one day
  "$crm" run "$playbook" --db "$db" --date 2026-11-18 | tail -1 >>"real.$tag"   # rerun: nothing new
  "$crm" event "$playbook" --db "$db" --customer 7 --type cancel_request --payload '{"reason": "too_expensive"}' --id 90001 --date 2026-11-21 >>"real.$tag"
done
sed -i "s#$PGURI##; s#postgresql://crm@127.0.0.1:$PGPORT/crm##; s#shop.db##" real.sq real.pg
same real.sq real.pg "sample shop: real run summaries"
grep -q "^0 new outbox row(s) written" real.pg || fail "the rerun on PostgreSQL wrote rows again"
dump_sqlite shop.db >outbox.sq
dump_pg crm >outbox.pg
same outbox.sq outbox.pg "sample shop: outbox and tags after real runs"
[ "$(psql_q "select count(*) from runs where status = 'completed'")" = 7 ] || fail "PostgreSQL runs table: expected 7 completed days"

# --- the commands beside run: deliver (dry run, then for real to a receiver on 127.0.0.1), fit,
# analyze next-purchase; the same bytes on both backends
source "$root/tests/receiver/receiver_lib.sh"
trap 'stop_receivers; pg_stop' EXIT
for db in shop.db "$PGURI"; do
  tag=$([ "$db" = shop.db ] && echo sq || echo pg)
  "$crm" deliver --db "$db" --webhook http://127.0.0.1:9/x --dry-run >"dry.$tag" 2>"dry.$tag.err"
  start_receiver "recv.$tag"
  "$crm" deliver --db "$db" --webhook "$url" --batch 50 >"deliver.$tag" 2>"deliver.$tag.err" || { cat "deliver.$tag.err"; fail "deliver on $tag"; }
  sed -i 's/ in [0-9.]* s;/ in T s;/' "deliver.$tag"
  "$crm" deliver --db "$db" --status >"status.$tag" 2>&1
  sort "$work/recv.$tag.keys" >"keys.$tag"
  "$crm" fit --db "$db" --format json >"fit.$tag" 2>"fit.$tag.err" || { cat "fit.$tag.err"; fail "fit on $tag"; }
  "$crm" fit --db "$db" --as-of 2026-11-20 --holdout-from 2026-08-01 --models bgnbd,gamma_gamma >"fittext.$tag" 2>&1
  "$crm" analyze next-purchase --db "$db" --format jsonl >"next.$tag" 2>&1
  "$crm" analyze next-purchase --db "$db" --by category >>"next.$tag" 2>&1
  # the fitted models reach the run: p_alive, predicted_clv, recommended (examples/campaigns/lifetime.crm)
  "$crm" run "$root/examples/campaigns/lifetime.crm" --db "$db" --date 2026-11-24 --dry-run --format jsonl >"life.$tag" 2>&1
done
same life.sq life.pg "sample shop: a dry run of lifetime.crm with the fitted models"
grep -q '"rule":"lifetime.fading"' life.pg || fail "lifetime.crm's p_alive rule fired nothing on PostgreSQL: are the fitted models read?"
[ "$(wc -l <dry.sq)" -gt 100 ] || fail "the deliver dry run posts too few rows"
same dry.sq dry.pg "sample shop: deliver --dry-run (the rows as posted, outbox ids included)"
same dry.sq.err dry.pg.err "sample shop: deliver --dry-run summary"
same deliver.sq deliver.pg "sample shop: deliver to a receiver (summary)"
same keys.sq keys.pg "sample shop: the rows the receiver got"
sed -i "s#$PGURI##; s#postgresql://crm@127.0.0.1:$PGPORT/crm##; s#shop.db##" status.sq status.pg
same status.sq status.pg "sample shop: deliver --status"
grep -q "delivered" status.pg || fail "deliver --status on PostgreSQL shows no delivered rows"
same fit.sq fit.pg "sample shop: fit --format json"
same fittext.sq fittext.pg "sample shop: fit with a holdout (text)"
same next.sq next.pg "sample shop: analyze next-purchase"
[ "$(psql_q "select count(*) from models")" -ge 3 ] || fail "fit saved no models in PostgreSQL"
[ "$(psql_q "select count(*) from deliveries where status = 'delivered'")" = "$(sqlite3 shop.db "select count(*) from deliveries where status = 'delivered'")" ] ||
  fail "the deliveries tables differ"
errs+=(dry.pg dry.pg.err deliver.pg deliver.pg.err status.pg fit.pg.err fittext.pg next.pg)
# one crm deliver at a time on PostgreSQL too (advisory lock); kill -9 of the holder frees it
psql_q "delete from deliveries"
start_receiver slow --delay 0.3
slow_url=$url
"$crm" deliver --db "$PGURI" --webhook "$slow_url" --batch 1 >/dev/null 2>&1 &
first=$!
sleep 1
rc=0; "$crm" deliver --db "$PGURI" --webhook "$slow_url" >/dev/null 2>lock.err || rc=$?
[ "$rc" = 1 ] && grep -q "another crm deliver is delivering from 'postgresql://crm@127.0.0.1" lock.err ||
  { cat lock.err; fail "a second crm deliver on PostgreSQL was not refused (exit $rc)"; }
kill -9 "$first"; wait "$first" 2>/dev/null || true
start_receiver fast
"$crm" deliver --db "$PGURI" --webhook "$url" >/dev/null 2>lock2.err || { cat lock2.err; fail "the lock of a killed crm deliver was not released"; }
[ "$(psql_q "select count(*) from deliveries where status = 'delivered'")" = "$(psql_q "select count(*) from outbox")" ] ||
  fail "after the kill and a new delivery, not every row is delivered"
echo "ok: one crm deliver at a time on PostgreSQL; kill -9 releases the lock"
errs+=(lock.err lock2.err)

# outcomes of the real runs, with coupon redemptions from an orders.coupon column
sqlite3 shop.db "alter table orders add column coupon text; update orders set coupon = 'comeback_10' where id % 5 = 0"
psql_q "alter table orders add column coupon text; update orders set coupon = 'comeback_10' where id % 5 = 0"
for db in shop.db "$PGURI"; do
  tag=$([ "$db" = shop.db ] && echo sq || echo pg)
  "$crm" outcomes "$playbook" --db "$db" --from 2026-11-15 --to 2026-11-21 --format jsonl >"outcomes.$tag" 2>&1
done
grep -q coupon outcomes.sq || fail "outcomes shows no coupon redemptions"
same outcomes.sq outcomes.pg "sample shop: outcomes (with coupon redemptions)"
errs+=(outcomes.pg)

# --- import csv: the shipped exports, a re-import (nothing new) and one with changed rows; then
# the imported stores read the same (dry runs, explain, fit --no-save)
ex="$root/examples/import"
shopify_uri=$(pg_newdb shopify)
cart_uri=$(pg_newdb cart)
cat >imported.crm <<'CRM'
message thanks via email subject "thanks {name}"
rule thanks: when purchase_count >= 1 and days_since_last_purchase <= 30 then send thanks
rule big: when total_spent > 50 then grant coupon big10
CRM
for tag in sq pg; do
  s=$([ $tag = sq ] && echo shopify.db || echo "$shopify_uri"); c=$([ $tag = sq ] && echo cart.db || echo "$cart_uri")
  {
    "$crm" import csv --db "$s" --mapping "$ex/shopify_orders.toml" "$ex/shopify/orders_export.csv"
    "$crm" import csv --db "$s" --mapping "$ex/shopify_orders.toml" "$ex/shopify/orders_export.csv"
    "$crm" import csv --db "$c" --mapping "$ex/cart_utf8.toml" "$ex"/cart_utf8/{customers,orders,order_items}.csv
    "$crm" import csv --db "$c" --mapping "$ex/cart_sjis.toml" "$ex"/cart_sjis/*.csv
    "$crm" import csv --db "$c" --mapping "$ex/cart_utf8.toml" "$ex"/cart_utf8/{customers,orders}.csv --dry-run
  } >"import.$tag" 2>&1 || { cat "import.$tag"; fail "import csv on $tag"; }
  for db in "$s" "$c"; do
    "$crm" run imported.crm --db "$db" --from 2023-11-01 --to 2024-04-30 --dry-run --format jsonl
    for id in 1 2 3 1001 1002; do "$crm" explain imported.crm --db "$db" --customer $id --date 2024-03-31 2>&1 || true; done
    "$crm" analyze next-purchase --db "$db" --format jsonl
  done >"imported.$tag" 2>&1
done
sed -i "s#$shopify_uri#S#g; s#$cart_uri#C#g; s#postgresql://crm@127.0.0.1:$PGPORT/shopify#S#g; s#postgresql://crm@127.0.0.1:$PGPORT/cart#C#g; s#shopify.db#S#g; s#cart.db#C#g" import.sq import.pg imported.sq imported.pg
grep -q "(0 new)" import.pg || fail "the re-import on PostgreSQL added rows"
same import.sq import.pg "import csv: reports (first import, re-import, Shift_JIS, dry run)"
[ "$(grep -c '"action"' imported.sq)" -gt 5 ] || fail "the imported stores gave too few actions"
same imported.sq imported.pg "import csv: runs, explain and analyze on the imported stores"
[ "$(psql_q shopify "select count(*) from order_items")" = "$(sqlite3 shopify.db "select count(*) from order_items")" ] ||
  fail "order_items differ after the Shopify import"
errs+=(import.pg imported.pg)
# a statement that fails on the server (sent in a pipeline) stops the import: one message, exit 1,
# nothing written
bad_uri=$(pg_newdb badimport)
"$crm" init --db "$bad_uri" >/dev/null
psql_q badimport "alter table order_items add constraint small check (quantity < 2)"
set +e; "$crm" import csv --db "$bad_uri" --mapping "$ex/shopify_orders.toml" "$ex/shopify/orders_export.csv" >/dev/null 2>bad.err; rc=$?; set -e
[ $rc = 1 ] && grep -q 'violates check constraint "small"' bad.err || { cat bad.err; fail "a failing import on PostgreSQL: exit $rc"; }
[ "$(psql_q badimport "select count(*) from customers")" = 0 ] || fail "a failed import on PostgreSQL left rows behind"
echo "ok: import csv: a server-side failure writes nothing"
errs+=(bad.err)

# --- import cdnow (through a SQLite staging file and COPY), then fit on both
python3 -c '
import random
r = random.Random(5)
for c in range(1, 301):
    d = 19970101 + r.randrange(0, 28)
    for k in range(r.choice([1, 1, 2, 3, 5])):
        print(c, "%d%02d%02d" % (1997, 1 + min(11, k * 2 + r.randrange(0, 2)), 1 + r.randrange(0, 28)), r.randrange(1, 4), "%.2f" % (r.uniform(5, 80)))
' >cdnow.txt
cdnow_uri=$(pg_newdb cdnow)
for tag in sq pg; do
  db=$([ $tag = sq ] && echo cdnow.db || echo "$cdnow_uri")
  { "$crm" import cdnow --db "$db" cdnow.txt; "$crm" fit --db "$db" --unit weeks; } >"cdnow.$tag" 2>&1 || { cat "cdnow.$tag"; fail "cdnow on $tag"; }
done
sed -i "s#postgresql://crm@127.0.0.1:$PGPORT/cdnow#C#g; s#cdnow.db#C#g" cdnow.sq cdnow.pg
same cdnow.sq cdnow.pg "import cdnow, then fit"
errs+=(cdnow.pg)

# --- the odd store (the same SQL on both backends)
odd_uri=$(pg_newdb odd)
"$crm" init --db odd.db >/dev/null
"$crm" init --db "$odd_uri" >/dev/null
sqlite3 odd.db <"$root/tests/scripts/pg_data/odd_store.sql"
PGPASSWORD="$PGPASSWORD_RAW" PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U crm -d odd \
  -f "$root/tests/scripts/pg_data/odd_store.sql"
odd="$root/tests/scripts/pg_data/odd.crm"
for db in odd.db "$odd_uri"; do
  tag=$([ "$db" = odd.db ] && echo sq || echo pg)
  "$crm" run "$odd" --db "$db" --from 2026-11-01 --to 2026-11-30 --dry-run --format jsonl >"odd.$tag" 2>"odd.$tag.err"
  "$crm" simulate "$odd" --db "$db" --from 2026-11-01 --to 2026-11-30 --format jsonl >"oddsim.$tag" 2>/dev/null
  for c in 1 2 3 4; do "$crm" explain "$odd" --db "$db" --customer $c --date 2026-11-10; done >"oddexplain.$tag" 2>&1
  "$crm" run "$odd" --db "$db" --from 2026-11-01 --to 2026-11-12 >/dev/null 2>&1
done
[ "$(wc -l <odd.sq)" -gt 5 ] || fail "the odd store's dry run gave too few actions"
same odd.sq odd.pg "odd store: run --dry-run --format jsonl"
same odd.sq.err odd.pg.err "odd store: data warnings"
same oddsim.sq oddsim.pg "odd store: simulate --format jsonl"
same oddexplain.sq oddexplain.pg "odd store: explain"
dump_sqlite odd.db >oddbox.sq
dump_pg odd >oddbox.pg
same oddbox.sq oddbox.pg "odd store: outbox and tags (quotes and SQL fragments in tags and names)"
[ "$(psql_q odd "select count(*) from orders")" = 10 ] || fail "the odd store lost its orders table contents"

# --- clear errors: one line, exit 1, nothing written; never the password
check_error() {  # check_error NAME EXPECTED-TEXT CRM-ARGS...
  local name=$1 want=$2; shift 2
  set +e; "$crm" "$@" >"$name.out" 2>"$name.err"; local rc=$?; set -e
  [ "$rc" = 1 ] || { cat "$name.err"; fail "$name: exit $rc, expected 1"; }
  grep -q -- "$want" "$name.err" || { cat "$name.err"; fail "$name: expected '$want'"; }
  [ "$(grep -c . "$name.err")" = 1 ] || { cat "$name.err"; fail "$name: the error is not one line"; }
  errs+=("$name.out" "$name.err")
  echo "ok: $name: $(cat "$name.err")"
}
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
check_error unreachable "cannot reach the PostgreSQL server" run "$playbook" --db "postgresql://crm:$PGPW_URI@127.0.0.1:$closed_port/crm" --date 2026-11-01
for cmd in "fit" "analyze next-purchase" "deliver --webhook http://127.0.0.1:9/x" "sample" "import cdnow /dev/null" "init"; do
  # shellcheck disable=SC2086
  check_error "unreachable_${cmd%% *}" "cannot reach the PostgreSQL server" $cmd --db "postgresql://crm:$PGPW_URI@127.0.0.1:$closed_port/crm"
done
check_error auth "authentication failed" run "$playbook" --db "postgresql://crm:wrong-$PGPW_URI@127.0.0.1:$PGPORT/crm" --date 2026-11-01
plain=$(pg_newdb plain)
check_error not_a_store "is not a crm store" run "$playbook" --db "$plain" --date 2026-11-01
[ "$(psql_q plain "select count(*) from pg_tables where schemaname = 'public'")" = 0 ] || fail "a table was created in a database that is not a crm store"
newer=$(pg_newdb newer)
"$crm" init --db "$newer" >/dev/null
psql_q newer "update meta set value = '99' where key = 'schema_version'"
check_error newer "newer than this crm supports" run "$playbook" --db "$newer" --date 2026-11-01
check_error newer_init "newer than this crm supports" init --db "$newer"
[ "$(psql_q newer "select count(*) from runs")" = 0 ] || fail "a run was recorded in a store of a newer schema"

# --- a schema other than public, named in the URI
schema_uri="postgresql://crm:$PGPW_URI@127.0.0.1:$PGPORT/crm?options=-csearch_path%3Dshop2"
"$crm" init --db "$schema_uri" >init_schema.out
[ "$(psql_q "select count(*) from information_schema.tables where table_schema = 'shop2' and table_name = 'outbox'")" = 1 ] ||
  fail "crm init did not create the tables in the schema of the search_path"
errs+=(init_schema.out sample.err real.pg run.pg.err sim.pg.err explain.pg odd.pg.err)
no_secret "${errs[@]}"
echo "SQLite and PostgreSQL agree"
