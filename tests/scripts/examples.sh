#!/usr/bin/env bash
# The examples run in CI: every example campaign passes `crm check` with no error and no
# warning, `crm sample` makes a store they check against, and `crm import online-retail` reads
# a small gzip CSV.  usage: examples.sh PATH/TO/crm PROJECT_DIR
set -euo pipefail
crm="$1"
root="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$root"/examples/campaigns/*.crm; do
  out=$("$crm" check "$f" 2>&1) || { echo "FAIL: crm check $f"; echo "$out"; exit 1; }
  if grep -q "warning" <<<"$out"; then echo "FAIL: warnings in $f"; echo "$out"; exit 1; fi
done

"$crm" sample --db "$tmp/shop.db" --customers 500 --seed 3 --as-of 2026-06-30 2>"$tmp/sample.err"
grep -q "wrote .*: 500 customers" "$tmp/sample.err" || { echo "FAIL: crm sample"; cat "$tmp/sample.err"; exit 1; }
"$crm" check --db "$tmp/shop.db" "$root/examples/campaigns/playbook.crm" 2>/dev/null
# A second generation into the same file is refused (exit 1), a bad option is a usage error (2).
set +e
"$crm" sample --db "$tmp/shop.db" 2>/dev/null; [ $? -eq 1 ] || { echo "FAIL: existing store not refused"; exit 1; }
"$crm" sample --db "$tmp/x.db" --as-of 2026-02-30 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: bad date not a usage error"; exit 1; }
set -e

printf 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\nC536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,12/1/2010 9:41,2.55,17850,United Kingdom\n' |
  gzip >"$tmp/retail.csv.gz"
"$crm" import online-retail --db "$tmp/retail.db" "$tmp/retail.csv.gz" 2>"$tmp/import.err"
grep -q "1 customers, 1 products, 1 orders, 1 refunds" "$tmp/import.err" || { echo "FAIL: crm import"; cat "$tmp/import.err"; exit 1; }
echo "examples ok"
