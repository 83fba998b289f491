#!/usr/bin/env bash
# Delivery benchmark (not a ctest test; see tests/bench/README.md): crm deliver's rows/s to a local
# receiver that accepts everything (examples/deliver/webhook_receiver.py on 127.0.0.1), with
# batches of 1 (one POST and one commit per row) and of 100.
#
# Usage: tests/bench/deliver_bench.sh            (from the repository root)
# Environment: CRM (default build/engine/crm), ROWS (20000: outbox rows for batches of 100),
#              ROWS_SINGLE (3000: rows for batches of 1), BENCH_DIR (build/bench).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM="${CRM:-$ROOT/build/engine/crm}"
ROWS="${ROWS:-20000}"
ROWS_SINGLE="${ROWS_SINGLE:-3000}"
BENCH_DIR="${BENCH_DIR:-$ROOT/build/bench}"
[[ -x "$CRM" ]] || { echo "deliver_bench: no crm executable at $CRM (build it, or set CRM)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/deliver.XXXXXX")
rpid=""
trap '[ -n "$rpid" ] && kill $rpid 2>/dev/null; rm -rf "$work"' EXIT

# A sample shop with every customer opted in to email, and ROWS outbox rows: half email sends,
# half coupons (no channel), as `crm run` writes them.
"$CRM" sample --db "$work/base.db" --customers 10000 --seed 1 --as-of 2026-11-24 >/dev/null
sqlite3 "$work/base.db" "UPDATE customers SET email_opt_in = 1;
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
  INSERT INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at)
  SELECT '2026-11-24', 1 + i % 10000, 'bench', CASE i % 2 WHEN 0 THEN 'send' ELSE 'coupon' END,
         CASE i % 2 WHEN 0 THEN 'news' ELSE 'c10' END, CASE i % 2 WHEN 0 THEN 'email' END,
         '{\"dedupe\":\"' || i || '\",\"subject\":\"新商品のお知らせ\"}', 'bench|' || i || '|' || i || '|0', '2026-11-24T00:00:00Z'
  FROM n;"

rm -f "$work/port"
python3 "$ROOT/examples/deliver/webhook_receiver.py" --port 0 --port-file "$work/port" --lifetime 600 &
rpid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$work/port")/hook"

echo "crm deliver to a local accept-all receiver (python http.server, one thread per connection)"
for batch in 100 1; do
  rows=$ROWS; [ "$batch" = 1 ] && rows=$ROWS_SINGLE
  cp "$work/base.db" "$work/run.db"
  sqlite3 "$work/run.db" "DELETE FROM outbox WHERE id > $rows"
  t0=$(date +%s.%N)
  out=$("$CRM" deliver --db "$work/run.db" --webhook "$url" --batch "$batch")
  t1=$(date +%s.%N)
  delivered=$(sqlite3 "$work/run.db" "SELECT count(*) FROM deliveries WHERE status = 'delivered'")
  awk -v b="$batch" -v n="$delivered" -v a="$t0" -v z="$t1" \
    'BEGIN { printf "  batch %3d: %6d rows in %6.2f s = %8.0f rows/s\n", b, n, z - a, n / (z - a) }'
  echo "             ($out)"
done
