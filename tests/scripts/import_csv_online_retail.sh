#!/usr/bin/env bash
# `crm import csv` with examples/import/online_retail.toml gives the same store as
# `crm import online-retail`: every table compared row by row (values and SQLite types) with
# sqlite3, on a small file with the data set's corner cases and, when present, on the real
# UCI file (/work/shared/data/..., or $CRM_ONLINE_RETAIL).  usage: SCRIPT CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
map="$root/examples/import/online_retail.toml"

compare() {  # compare FILE: both importers, then every table
  local src="$1" name="$2"
  cp "$src" "$tmp/$name"
  "$crm" import online-retail --db "$tmp/a.db" "$tmp/$name" 2>/dev/null
  "$crm" import csv --db "$tmp/b.db" --mapping "$map" "$tmp/$name" 2>"$tmp/b.err" || { cat "$tmp/b.err"; exit 1; }
  for q in "SELECT * FROM customers ORDER BY id" "SELECT * FROM products ORDER BY id" \
           "SELECT * FROM orders ORDER BY id" "SELECT * FROM order_items ORDER BY rowid" \
           "SELECT * FROM meta ORDER BY key" "SELECT name, type FROM pragma_table_info('customers')" \
           "SELECT count(*) FROM subscriptions UNION ALL SELECT count(*) FROM events"; do
    if ! diff <(sqlite3 -quote "$tmp/a.db" "$q") <(sqlite3 -quote "$tmp/b.db" "$q") > "$tmp/diff"; then
      echo "FAIL: $name: '$q' differs between crm import online-retail (<) and crm import csv (>):"
      head -20 "$tmp/diff"; exit 1
    fi
  done
  echo "$name: same store ($(sqlite3 "$tmp/b.db" 'SELECT count(*) FROM order_items') order lines)"
  rm -f "$tmp/a.db" "$tmp/b.db"
}

# Corner cases: a cancellation (C...), a row without CustomerID, an adjustment invoice (A...)
# without a customer, whole numbers written as 17850.0, a free line (price 0) before the real
# price, a later description, M/D/YYYY H:MM dates, a quoted description with a comma.
cat > "$tmp/small.csv" <<'CSV'
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,,6,12/1/2010 8:26,0,17850.0,United Kingdom
536366,71053,"WHITE METAL LANTERN, LARGE",2,12/1/2010 8:28,3.39,17850.0,
536367,22633,HAND WARMER UNION JACK,12,12/1/2010 8:34,1.85,,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,12/1/2010 9:41,2.55,13047,France
A563185,B,Adjust bad debt,1,8/12/2011 14:50,11062.06,,United Kingdom
536380,22961,JAM MAKING SET PRINTED,24,12/1/2010 9:41,1.45,13047,France
536380,22961,JAM MAKING SET PRINTED,-24,12/1/2010 9:42,1.45,13047,France
CSV
gzip -k "$tmp/small.csv"
compare "$tmp/small.csv.gz" online-retail-small.csv.gz

real="${CRM_ONLINE_RETAIL:-/work/shared/data/online-retail/online-retail-2010-2011.csv.gz}"
if [ -f "$real" ]; then compare "$real" online-retail-2010-2011.csv.gz
else echo "skipped the real UCI file: $real not found"; fi
