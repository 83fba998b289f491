#!/usr/bin/env bash
# Benchmark: one day's run on PostgreSQL vs SQLite over the same generated shop (default 1M
# customers, ~10M orders; CUSTOMERS=100000 for a quick figure), and the same day split into 2
# shards run at once. Prints load, evaluation, outbox write and peak memory (crm run --stats);
# no timed asserts. Needs the postgresql server package (a throwaway cluster, tests/scripts/pg_lib.sh).
# usage: tests/bench/pg_bench.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
customers=${CUSTOMERS:-1000000}
opc=${ORDERS_PER_CUSTOMER:-10}
source "$root/tests/scripts/pg_lib.sh"
PG_EXTRA_OPTS="-c shared_buffers=512MB -c max_wal_size=4GB" pg_start
work="$PGTMP/work"; mkdir -p "$work"; cd "$work"
export CRM_TODAY=2026-11-24
script="$root/examples/campaigns/playbook.crm"
day=2026-11-24
echo "== $customers customers, $opc orders per customer"
t=$(date +%s); "$crm" sample --db shop.db --customers "$customers" --orders-per-customer "$opc" --seed 3 2>&1 | tail -1
echo "sqlite sample: $(( $(date +%s) - t )) s"
t=$(date +%s); "$crm" sample --db "$PGURI" --customers "$customers" --orders-per-customer "$opc" --seed 3 >/dev/null 2>&1
echo "postgres sample (generate + COPY in): $(( $(date +%s) - t )) s"
psql_q "vacuum analyze" || true
for db in shop.db "$PGURI"; do
  name=$([ "$db" = shop.db ] && echo sqlite || echo postgres)
  t0=$(date +%s%N)
  "$crm" run "$script" --db "$db" --date $day --stats >/dev/null 2>stats.txt
  echo "$name: wall $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(grep stats: stats.txt)"
done
# a dry run isolates load + evaluation; the difference to the real run is the outbox write
for db in shop.db "$PGURI"; do
  name=$([ "$db" = shop.db ] && echo sqlite || echo postgres)
  "$crm" run "$script" --db "$db" --date 2026-11-23 --dry-run --stats >/dev/null 2>stats.txt
  echo "$name dry run (no write): $(grep stats: stats.txt)"
done
echo "outbox rows: sqlite $(sqlite3 shop.db 'select count(*) from outbox'), postgres $(psql_q 'select count(*) from outbox')"
# two shards at once on PostgreSQL (a new day)
t0=$(date +%s%N)
for K in 1 2; do "$crm" run "$script" --db "$PGURI" --date 2026-11-22 --shard $K/2 --stats >/dev/null 2>"shard$K.txt" & done
wait
echo "postgres 2 shards at once: wall $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for K in 1 2; do echo "  shard $K/2: $(grep stats: shard$K.txt)"; done
t0=$(date +%s%N)
"$crm" run "$script" --db "$PGURI" --date 2026-11-21 --stats >/dev/null 2>stats.txt
echo "postgres 1 process (same kind of day): wall $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(grep stats: stats.txt)"
