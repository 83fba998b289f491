#!/usr/bin/env bash
# Robustness (issue 12.4): a point amount outside int64's range is null (SPEC §4) and grants
# nothing; a negative amount is skipped with a warning. Never a wrapped -9223372036854775808.
# usage: points_overflow.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
"$crm" init --db s.db >/dev/null
sqlite3 s.db "insert into customers (id, email_opt_in, created_at) values (1, 1, '2026-01-01'), (2, 1, '2026-01-01'), (3, 1, '2026-01-01');
insert into orders (id, customer_id, ordered_at, total, status) values
  (1, 1, '2026-02-01', 9223372036854775807, 'paid'), (2, 2, '2026-02-01', -500, 'paid'), (3, 3, '2026-02-01', 120, 'paid');"
cat > p.crm <<'CRM'
rule spent: when purchase_count > 0 then grant points total_spent
rule big: when purchase_count > 0 and total_spent > 1000000 then grant points 9223372036854775807 * 1.0
CRM
"$crm" run p.crm --db s.db --date 2026-03-01 >out.txt 2>err.txt
cat err.txt
rows=$(sqlite3 s.db "select customer_id || ' ' || rule || ' ' || target from outbox where action = 'points' order by 1")
echo "points rows: $rows"
[ "$rows" = "3 spent 120" ] || { echo "FAIL: expected only customer 3's 120 points, got: $rows"; exit 1; }
grep -q "negative amount were skipped" err.txt || { echo "FAIL: no warning for the negative grant"; exit 1; }
# crm event: the same rules (a real-time grant), and the same warning.
cat > e.crm <<'CRM'
rule huge: on cancel_request when true then grant points 9223372036854775807 * 2.0
rule neg: on cancel_request when true then grant points -5
rule ok: on cancel_request when true then grant points 7
CRM
"$crm" event e.crm --db s.db --customer 3 --type cancel_request --date 2026-03-02 >out.txt 2>err.txt
rows=$(sqlite3 s.db "select rule || ' ' || target from outbox where action = 'points' and customer_id = 3 and rule in ('huge', 'neg', 'ok')")
[ "$rows" = "ok 7" ] || { echo "FAIL: crm event: expected only 'ok 7', got: $rows"; exit 1; }
grep -q "crm event: warning: 1 point grant(s) with a negative amount were skipped" err.txt || { echo "FAIL: crm event did not warn of the negative grant:"; cat err.txt; exit 1; }
echo "out-of-range amounts grant nothing; negative ones are skipped with a warning (run and event)"
