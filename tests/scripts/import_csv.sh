#!/usr/bin/env bash
# `crm import csv` end to end on the shipped examples (engine/import/): the Shopify orders
# export, the cart export in UTF-8 and Shift_JIS (same store), a re-import with changed statuses
# (upsert, no duplicates), a failing import that leaves the store byte for byte as it was, SQL
# in attribute names and values, and a run over an imported store.  usage: SCRIPT CRM PROJECT_DIR
set -euo pipefail
crm="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; root="$(cd "$2" && pwd)"; ex="$root/examples/import"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$1" "$2"; }
expect() {  # expect DB SQL EXPECTED
  local got; got=$(q "$1" "$2")
  [ "$got" = "$3" ] || fail "$2: expected [$3], got [$got]"
}

# --- Shopify: one row per line item, customers by email, statuses mapped, order fields on row 1.
"$crm" import csv --db "$tmp/shop.db" --mapping "$ex/shopify_orders.toml" "$ex/shopify/orders_export.csv" 2>"$tmp/err"
expect "$tmp/shop.db" "SELECT count(*) FROM customers" 4
expect "$tmp/shop.db" "SELECT id, email, email_opt_in, created_at, city FROM customers WHERE name = 'Liam Chen'" \
  "2|liam.chen@example.com|0|2024-03-03T18:40:01-05:00|Seattle"
expect "$tmp/shop.db" "SELECT group_concat(id || ':' || customer_id || ':' || total || ':' || status, ' ') FROM (SELECT * FROM orders ORDER BY id)" \
  "1001:1:63.32:paid 1002:2:38.88:paid 1003:1:24.44:cancelled 1004:3:34.7:refunded 1005:4:24.44:cancelled 1006:2:62.64:paid"
expect "$tmp/shop.db" "SELECT count(*), sum(quantity) FROM order_items" "9|13"
expect "$tmp/shop.db" "SELECT sku || '=' || price FROM products WHERE name = 'Bamboo Tea Whisk'" "ACC-WHISK=18"
expect "$tmp/shop.db" "SELECT value FROM meta WHERE key = 'timezone'" "America/New_York"
# the same export again: nothing new, nothing doubled
"$crm" import csv --db "$tmp/shop.db" --mapping "$ex/shopify_orders.toml" "$ex/shopify/orders_export.csv" 2>"$tmp/err"
grep -q "6 orders (0 new), 9 order_items (0 new)" "$tmp/err" || fail "Shopify re-import: $(cat "$tmp/err")"
expect "$tmp/shop.db" "SELECT count(*) FROM order_items" 9

# --- the cart export: UTF-8 and Shift_JIS give the same store.
"$crm" import csv --db "$tmp/utf8.db" --mapping "$ex/cart_utf8.toml" "$ex"/cart_utf8/{customers,orders,order_items}.csv 2>"$tmp/err"
"$crm" import csv --db "$tmp/sjis.db" --mapping "$ex/cart_sjis.toml" "$ex"/cart_sjis/{order_items,orders,customers}.csv 2>"$tmp/err"
for t in customers products orders order_items meta; do
  diff <(sqlite3 -quote "$tmp/utf8.db" "SELECT * FROM $t ORDER BY 1, 2") <(sqlite3 -quote "$tmp/sjis.db" "SELECT * FROM $t ORDER BY 1, 2") \
    || fail "cart: table $t differs between UTF-8 and Shift_JIS"
done
expect "$tmp/sjis.db" "SELECT name, birthday, email_opt_in, line_opt_in, prefecture, point_balance FROM customers WHERE id = 1001" \
  "山田 花子|1985-04-12|1|1|東京都|1250"
expect "$tmp/sjis.db" "SELECT total, status FROM orders WHERE id = 20230004" "2160|cancelled"
expect "$tmp/sjis.db" "SELECT typeof(point_balance) FROM customers WHERE id = 1001" "integer"
# a Shift_JIS file read as UTF-8 is an error naming the file, line and column
cat > "$tmp/wrong.toml" < <(sed 's/^encoding = .*/encoding = "utf-8"/' "$ex/cart_sjis.toml")
cp "$ex/cart_sjis/orders.csv" "$tmp/orders.csv"
if "$crm" import csv --db "$tmp/utf8.db" --mapping "$tmp/wrong.toml" "$tmp/orders.csv" 2>"$tmp/err"; then fail "a Shift_JIS file read as UTF-8 was accepted"; fi
grep -q "not valid UTF-8" "$tmp/err" || fail "wrong encoding: $(cat "$tmp/err")"

# --- re-import of a newer export: a status changed, one order added, nothing duplicated.
mkdir "$tmp/newer"
sed 's/^20230004,1003,\(.*\),入金待ち,/20230004,1003,\1,入金済み,/' "$ex/cart_utf8/orders.csv" > "$tmp/newer/orders.csv"
echo '20230006,1002,2023/09/01 10:00:00,"1,990",入金済み,クレジットカード' >> "$tmp/newer/orders.csv"
cp "$ex/cart_utf8/order_items.csv" "$tmp/newer/order_items.csv"
echo '20230006,GT-001,宇治抹茶 30g,"1,990",1' >> "$tmp/newer/order_items.csv"
"$crm" import csv --db "$tmp/utf8.db" --mapping "$ex/cart_utf8.toml" "$tmp/newer/orders.csv" "$tmp/newer/order_items.csv" 2>"$tmp/err"
grep -q "6 orders (1 new), 7 order_items (1 new)" "$tmp/err" || fail "re-import: $(cat "$tmp/err")"
expect "$tmp/utf8.db" "SELECT status FROM orders WHERE id = 20230004" "paid"
expect "$tmp/utf8.db" "SELECT count(*) FROM orders" 6
expect "$tmp/utf8.db" "SELECT count(*) FROM order_items" 7
expect "$tmp/utf8.db" "SELECT count(*) FROM customers" 4

# --- a failed import leaves the store exactly as it was (one transaction).
before=$(sqlite3 "$tmp/utf8.db" .dump | md5sum)
cp "$tmp/newer/orders.csv" "$tmp/orders.csv"
sed -i 's/^20230001,1001,2023\/06\/01 09:15:00/20230001,1001,2023\/06\/31 09:15:00/; s/入金済み/返品/' "$tmp/orders.csv"
if "$crm" import csv --db "$tmp/utf8.db" --mapping "$ex/cart_utf8.toml" "$ex/cart_utf8/customers.csv" "$tmp/orders.csv" 2>"$tmp/err"; then fail "a bad date was accepted"; fi
grep -q "orders.csv:2: column '注文日時' = '2023/06/31 09:15:00': is not a date and time" "$tmp/err" || fail "bad date: $(cat "$tmp/err")"
[ "$(sqlite3 "$tmp/utf8.db" .dump | md5sum)" = "$before" ] || fail "the failed import changed the store"
# a missing store is not left behind by a failed import
if "$crm" import csv --db "$tmp/new.db" --mapping "$ex/cart_utf8.toml" "$tmp/orders.csv" 2>/dev/null; then fail "accepted"; fi
[ ! -e "$tmp/new.db" ] || fail "a failed import left a new store behind"

# --- SQL in names and values: quoted identifiers, bound values.
cp -r "$root/tests/golden/import/quoted_names" "$tmp/quoted"
(cd "$tmp/quoted" && "$crm" import csv --db q.db --mapping map.toml customers.csv 2>/dev/null)
expect "$tmp/quoted/q.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('orders', 'customers')" 2
expect "$tmp/quoted/q.db" "SELECT name || '|' || \"x\"\"; DROP TABLE orders; --\" || '|' || \"plan'); DELETE FROM customers; --\" FROM customers ORDER BY id" \
  "Robert'); DROP TABLE customers; --|1); DELETE FROM orders; --|gold
O\"Brien|plain|x\", y"

# --- the imported store runs: a campaign over the cart customers.
cat > "$tmp/thanks.crm" <<'CRM'
message thanks via email subject "{name|'お客'}様、ありがとうございます"
rule thanks:
  when purchase_count >= 1 and prefecture == "東京都"
  then send thanks
CRM
"$crm" run "$tmp/thanks.crm" --db "$tmp/utf8.db" --date 2023-12-01 --dry-run > "$tmp/run.out" 2>"$tmp/run.err" || { cat "$tmp/run.err"; fail "crm run on the imported store"; }
grep -Eq "^thanks +send thanks via email +1 " "$tmp/run.out" || { cat "$tmp/run.out" "$tmp/run.err"; fail "crm run: customer 1001 (Tokyo, paid orders) not sent"; }
! grep -q warning "$tmp/run.err" || fail "crm run warns: $(cat "$tmp/run.err")"
echo "import_csv ok"
