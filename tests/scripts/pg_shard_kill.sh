#!/usr/bin/env bash
# PostgreSQL reliability and scale-out on a real, throwaway server (pg_lib.sh):
# 1. a real run killed with SIGKILL at random moments, then rerun: the outbox equals an
#    uninterrupted run's (no duplicate, no loss);
# 2. `crm run --shard K/4` as 4 processes at once = one unsharded process, as sets of outbox
#    rows; a missing shard is reported and the day stays incomplete until it runs;
# 3. two unsharded runs at once: the second waits for the advisory lock or fails clearly.
# usage: pg_shard_kill.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
source "$root/tests/scripts/pg_lib.sh"
pg_start
work="$PGTMP/work"; mkdir -p "$work"; cd "$work"
export CRM_TODAY=2026-11-24
fail() { echo "FAIL: $*" >&2; exit 1; }
script="$root/examples/campaigns/playbook.crm"
from=2026-11-05; to=2026-11-24
"$crm" sample --db base.db --customers 3000 --seed 7 2>/dev/null
newstore() { local uri; uri=$(pg_newdb "$1"); "$crm" sample --db "$uri" --customers 3000 --seed 7 2>/dev/null; echo "$uri"; }
keys() { psql_q "$1" "select idem_key from outbox order by idem_key collate \"C\"" | md5sum; }
rows() { psql_q "$1" "select count(*) from outbox"; }

# --- reference: one uninterrupted run
ref=$(newstore ref)
t0=$(date +%s%N)
"$crm" run "$script" --db "$ref" --from $from --to $to >/dev/null
run_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ref_rows=$(rows ref); ref_keys=$(keys ref)
[ "$ref_rows" -gt 100 ] || fail "the reference run wrote only $ref_rows rows"
echo "reference: $ref_rows outbox rows in $run_ms ms"

# --- kill -9 at random moments, then rerun (one database, reset between attempts)
k=$(newstore k)
psql_q k "create table outbox_base as select * from outbox; create table tags_base as select * from tags"
attempts=${PG_KILL_ATTEMPTS:-12}
for attempt in $(seq 1 "$attempts"); do
  psql_q k "truncate outbox; insert into outbox select * from outbox_base; delete from tags; insert into tags select * from tags_base; truncate runs; truncate run_shards"
  "$crm" run "$script" --db "$k" --from $from --to $to >/dev/null 2>&1 &
  pid=$!
  sleep "$(python3 -c "import random; print(random.uniform(0.02, 1.0) * $run_ms / 1000)")"  # anywhere in the run
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  partial=$(rows k)
  "$crm" run "$script" --db "$k" --from $from --to $to >/dev/null
  n=$(rows k)
  dups=$(psql_q k "select count(*) from (select customer_id, rule, action, target, run_date from outbox group by 1,2,3,4,5 having count(*) > 1) d")
  echo "kill $attempt: $partial rows at the kill, $n after the rerun (reference $ref_rows), duplicates $dups"
  [ "$n" = "$ref_rows" ] || fail "row count differs from the reference"
  [ "$(keys k)" = "$ref_keys" ] || fail "the outbox differs from the reference"
  [ "$dups" = 0 ] || fail "duplicate actions"
done

# --- 4 shards at once = one process
s=$(newstore shards)
pids=()
for K in 1 2 3 4; do
  "$crm" run "$script" --db "$s" --from $from --to $to --shard $K/4 >/dev/null 2>"shard$K.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a shard run failed: $(cat shard*.err)"; done
[ "$(rows shards)" = "$ref_rows" ] || fail "4 shards wrote $(rows shards) rows, one process $ref_rows"
[ "$(keys shards)" = "$ref_keys" ] || fail "the 4 shards' outbox differs from one process's"
[ "$(psql_q shards "select count(*) from runs where status = 'completed'")" = 20 ] || fail "the days were not all marked complete"
echo "ok: 4 shards at once = one process ($ref_rows rows); every day complete"

# --- a missing shard is reported; the day stays incomplete; an unsharded run completes it
m=$(newstore missing)
for K in 1 2 4; do "$crm" run "$script" --db "$m" --date $to --shard $K/4 >/dev/null 2>"m$K.err"; done
grep -q "still missing shard(s) 3/4" m4.err || { cat m4.err; fail "the missing shard 3/4 was not reported"; }
[ "$(psql_q missing "select count(*) from runs where status = 'completed'")" = 0 ] || fail "a day with a missing shard was marked complete"
"$crm" run "$script" --db "$m" --date $to >/dev/null 2>m.err
grep -q "3 of 4 shards completed" m.err || { cat m.err; fail "the unsharded run did not report the missing shard"; }
[ "$(psql_q missing "select status from runs")" = completed ] || fail "the unsharded run did not complete the day"
echo "ok: missing shard reported ($(cat m4.err | tail -1))"

# --- two runs at once: the second waits for the advisory lock (here: holds until the first ends)
l=$(newstore lock)
"$crm" run "$script" --db "$l" --from $from --to $to >/dev/null 2>l1.err &
p1=$!
sleep 0.3
"$crm" run "$script" --db "$l" --from $from --to $to >/dev/null 2>l2.err || fail "the second run did not wait: $(cat l2.err)"
wait $p1
[ "$(rows lock)" = "$ref_rows" ] || fail "two runs at once wrote $(rows lock) rows"
echo "ok: two runs at once: the second waited; $ref_rows rows"
no_secret shard*.err m*.err l*.err
echo "PostgreSQL: kill -9 + rerun exact, 4 shards = 1 process"
