#!/usr/bin/env bash
# Benchmark: one day's run on PostgreSQL vs SQLite over the same shop, side by side: loading the
# SQLite store into PostgreSQL (crm import sqlite: one COPY per table), a dry run (load +
# evaluation), a real run (+ outbox write), and the day split into 2 shards run at once; wall
# time and crm run --stats (load, evaluation, peak memory). No timed asserts. Needs the
# postgresql server package (a throwaway cluster, tests/scripts/pg_lib.sh).
# usage: tests/bench/pg_bench.sh CRM PROJECT_DIR
#   STORE=/work/bigstores/1m.db   an existing SQLite store (copied: the real runs write to it);
#                                 default: crm sample --customers $CUSTOMERS (default 100000)
#   OLD_CRM=path                  also time a shard run with this (older) binary, for comparison
#   PG_TMPDIR=dir                 where the cluster and the copies go (default /tmp)
# Run big ones under the shared lock: flock /work/briefs/bench.lock tests/bench/pg_bench.sh ...
set -euo pipefail
crm="$1"; root="$2"
source "$root/tests/scripts/pg_lib.sh"
PG_EXTRA_OPTS="-c shared_buffers=512MB -c max_wal_size=4GB -c work_mem=64MB" pg_start
work="$PGTMP/work"; mkdir -p "$work"; cd "$work"
export CRM_TODAY=2026-11-24
script="$root/examples/campaigns/playbook.crm"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
stats() { grep -o 'stats: .*' "$1" | sed 's/stats: //'; }

if [ -n "${STORE:-}" ]; then
  t0=$(date +%s%N); cp "$STORE" shop.db; echo "copied $STORE ($(du -h shop.db | cut -f1)) in $(ms "$t0") ms"
  "$crm" init --db shop.db >/dev/null  # an older store is migrated (the copy, not the original)
else
  "$crm" sample --db shop.db --customers "${CUSTOMERS:-100000}" --seed 3 2>&1 | tail -1
fi
echo "store: $(sqlite3 shop.db 'select count(*) from customers') customers, $(sqlite3 shop.db 'select count(*) from orders') orders, $(sqlite3 shop.db 'select count(*) from order_items') items"
t0=$(date +%s%N)
"$crm" import sqlite --db "$PGURI" shop.db 2>&1 | sed "s#$PGURI#PG#"
echo "load into PostgreSQL (COPY per table, one transaction, ANALYZE): $(ms "$t0") ms"
t0=$(date +%s%N); psql_q "vacuum analyze"; echo "vacuum analyze: $(ms "$t0") ms"
echo "PostgreSQL database size: $(psql_q "select pg_size_pretty(pg_database_size('crm'))")"

row() {  # row LABEL DAY ARGS...: one line per backend
  local label=$1 day=$2; shift 2
  for db in shop.db "$PGURI"; do
    local name; name=$([ "$db" = shop.db ] && echo "sqlite  " || echo "postgres")
    local t0; t0=$(date +%s%N)
    "$crm" run "$script" --db "$db" --date "$day" --stats "$@" >/dev/null 2>stats.txt
    echo "$label $name: wall $(ms "$t0") ms; $(stats stats.txt)"
  done
}
row "dry run   " 2026-11-23 --dry-run
row "dry run   " 2026-11-23 --dry-run   # second time: warm caches
row "real run  " 2026-11-24
echo "outbox rows: sqlite $(sqlite3 shop.db 'select count(*) from outbox'), postgres $(psql_q 'select count(*) from outbox')"

# two shards at once, on each backend (a new day)
for db in shop.db "$PGURI"; do
  name=$([ "$db" = shop.db ] && echo "sqlite  " || echo "postgres")
  t0=$(date +%s%N)
  for K in 1 2; do "$crm" run "$script" --db "$db" --date 2026-11-22 --shard $K/2 --stats >/dev/null 2>"shard$K.txt" & done
  wait
  echo "2 shards  $name: wall $(ms "$t0") ms (both at once)"
  for K in 1 2; do echo "    shard $K/2: $(stats shard$K.txt)"; done
done
# one shard alone, dry: what each process reads (the shard filter in the SQL)
for db in shop.db "$PGURI"; do
  name=$([ "$db" = shop.db ] && echo "sqlite  " || echo "postgres")
  t0=$(date +%s%N)
  "$crm" run "$script" --db "$db" --date 2026-11-21 --shard 1/2 --dry-run --stats >/dev/null 2>stats.txt
  echo "shard 1/2 dry, alone, $name: wall $(ms "$t0") ms; $(stats stats.txt)"
  if [ -n "${OLD_CRM:-}" ]; then
    t0=$(date +%s%N)
    "$OLD_CRM" run "$script" --db "$db" --date 2026-11-21 --shard 1/2 --dry-run --stats >/dev/null 2>stats.txt
    echo "  the same with OLD_CRM (filter in the client): wall $(ms "$t0") ms; $(stats stats.txt)"
  fi
done
