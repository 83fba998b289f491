#!/usr/bin/env bash
# Security (issue 12.7): control bytes (ESC ...) in customer data never reach a terminal through
# any text output: explain, run, simulate, event, the load warnings (which quote bad cells),
# analyze next-purchase; nor do a script's own control bytes through a diagnostic.  usage: control_bytes.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
"$crm" init --db s.db >/dev/null
sqlite3 s.db "alter table customers add column plan TEXT;
insert into customers (id, email_opt_in, created_at, plan) values (1, 1, '2026-01-01', 'gold' || char(27) || ']0;pwned' || char(7) || char(27) || '[31mRED');
insert into tags (customer_id, tag, set_at) values (1, 'x' || char(27) || '[2J', '2026-01-01');
insert into orders (id, customer_id, ordered_at, total, status) values (7, 1, '2026-01-0' || char(27) || '[2J', 5, 'paid');"
cat > p.crm <<'CRM'
message hi via email
rule r: when plan is not null and not ("y" in tags) then send hi
CRM
fail=0
for cmd in "explain p.crm --db s.db --customer 1 --date 2026-03-01" \
           "explain p.crm --db s.db --customer 1 --date 2026-03-01 --full" \
           "run p.crm --db s.db --date 2026-03-01 --dry-run" \
           "simulate p.crm --db s.db --from 2026-03-01 --to 2026-03-02" \
           "event p.crm --db s.db --customer 1 --type cancel_request --date 2026-03-01 --dry-run"; do
  "$crm" $cmd >out.txt 2>err.txt || { echo "FAIL: crm $cmd failed"; cat err.txt; fail=1; continue; }
  if grep -q $'\x1b' out.txt err.txt || grep -q $'\x07' out.txt err.txt; then
    echo "FAIL: crm ${cmd%% *} printed a control byte from customer data:"; cat -v out.txt | head -20; fail=1
  else echo "ok: crm ${cmd%% *}"; fi
done
grep -q "malformed ordered_at '2026-01-0?\[2J'" err.txt || { echo "FAIL: the load warning no longer quotes the bad cell:"; cat -v err.txt; fail=1; }
# A script's own text in a diagnostic (a string literal holding ESC, from a script written
# elsewhere), and shop data in `crm analyze next-purchase`'s text.
printf 'message hi via email\nrule t: on "ev\033[2J" when true then send hi\nrule u: when nope then send hi\n' > bad.crm
"$crm" check bad.crm >out.txt 2>err.txt || true
if grep -q $'\x1b' out.txt err.txt; then echo "FAIL: a diagnostic printed a control byte of the script:"; cat -v err.txt; fail=1
elif ! grep -q 'ev?\[2J' err.txt; then echo "FAIL: the diagnostic lost the line:"; cat -v err.txt; fail=1
else echo "ok: diagnostics"; fi
sqlite3 s.db "insert into products (id, sku, name) values (1, 'S' || char(27) || '[2J', 'N' || char(27) || '[2J');
insert into orders (id, customer_id, ordered_at, total, status) values (8, 1, '2026-01-02', 5, 'paid'), (9, 1, '2026-01-05', 5, 'paid');
insert into order_items (order_id, product_id, quantity, price) values (8, 1, 1, 5), (9, 1, 1, 5);"
"$crm" analyze next-purchase --db s.db --as-of 2026-03-01 >out.txt 2>err.txt || { echo "FAIL: analyze failed"; cat err.txt; fail=1; }
if grep -q $'\x1b' out.txt err.txt; then echo "FAIL: analyze printed a control byte from shop data:"; cat -v out.txt | head; fail=1
elif ! grep -q 'S?\[2J' out.txt; then echo "FAIL: analyze no longer shows the SKU:"; cat -v out.txt | head; fail=1
else echo "ok: analyze next-purchase"; fi
grep -q "gold?" <("$crm" explain p.crm --db s.db --customer 1 --date 2026-03-01 --full) || { echo "FAIL: explain no longer shows the value"; fail=1; }
exit $fail
