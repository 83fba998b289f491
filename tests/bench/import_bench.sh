#!/usr/bin/env bash
# Benchmark of `crm import csv`: generates an order-lines CSV (one row per line item, 4 lines
# per order, like a Shopify or UCI export) and imports it into a new store with customers,
# products, orders and order_items derived from the one file; prints rows/s. No timed assert.
# usage: import_bench.sh CRM [LINES]   (default 10,000,000 lines; CRM_BENCH_DIR for the files)
set -euo pipefail
crm="$1"; lines="${2:-10000000}"
dir="${CRM_BENCH_DIR:-$(mktemp -d)}"; mkdir -p "$dir"
[ -n "${CRM_BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
csv="$dir/lines_$lines.csv"
if [ ! -f "$csv" ]; then
  echo "generating $lines lines into $csv"
  awk -v n="$lines" 'BEGIN {
    srand(42); print "order_id,customer_id,ordered_at,sku,product_name,quantity,unit_price,status"
    for (i = 0; i < n; i++) {
      o = int(i / 4) + 1
      if (i % 4 == 0) {
        c = int(rand() * 200000) + 1; st = (rand() < 0.03) ? "canceled" : "paid"
        day = int(o / 10000); s = (o % 10000) * 8  # 10,000 orders a day, 2024-01-01 on
        d = sprintf("%04d-%02d-%02d %02d:%02d:%02d", 2024 + int(day / 336), int(day / 28) % 12 + 1, day % 28 + 1,
                    int(s / 3600), int(s / 60) % 60, s % 60)
      }
      p = int(rand() * 5000) + 1
      printf "%d,%d,%s,SKU-%05d,\"Product %d, size M\",%d,%d.%02d,%s\n", o, c, d, p, p, int(rand() * 3) + 1, p % 90 + 1, p % 100, st
    }
  }' > "$csv"
fi
cat > "$dir/bench.toml" <<'TOML'
timezone = "UTC"
datetime_format = "%Y-%m-%d %H:%M:%S"
[customers]
file = "lines_*.csv"
id = "customer_id"
created_at = { column = "ordered_at", aggregate = "min" }
[products]
file = "lines_*.csv"
sku = "sku"
name = "product_name"
price = "unit_price"
[orders]
file = "lines_*.csv"
id = "order_id"
customer_id = "customer_id"
ordered_at = "ordered_at"
status = { column = "status", map = { canceled = "cancelled" } }
[order_items]
file = "lines_*.csv"
order_id = "order_id"
product_id = { column = "sku", by = "sku" }
quantity = "quantity"
price = "unit_price"
TOML
rm -f "$dir/bench.db"
start=$(date +%s.%N)
if [ -x /usr/bin/time ]; then  # CPU time too: on a shared machine the wall clock says little
  /usr/bin/time -f "cpu: user %U s, sys %S s, max RSS %M KB" "$crm" import csv --db "$dir/bench.db" --mapping "$dir/bench.toml" "$csv"
else
  "$crm" import csv --db "$dir/bench.db" --mapping "$dir/bench.toml" "$csv"
fi
end=$(date +%s.%N)
size=$(du -m "$csv" | cut -f1)
awk -v n="$lines" -v mb="$size" -v a="$start" -v b="$end" \
  'BEGIN { printf "import csv: %d lines (%d MB) in %.1f s = %.0f rows/s\n", n, mb, b - a, n / (b - a) }'
