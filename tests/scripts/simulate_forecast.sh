#!/usr/bin/env bash
# crm simulate --forecast (docs/lifetime.md): over days after the store's last fact, purchases
# drawn from the fitted BG/NBD model reach the rules (a rule on days since a purchase fires more
# than in the plain backtest, where nobody buys again); the same seed gives the same forecast,
# another seed another; an interval around each mean; clear errors without a model or a future.
#   usage: simulate_forecast.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

"$crm" sample --db s.db --customers 1500 --as-of 2026-06-30 >/dev/null 2>&1
cat > f.crm <<'EOF2'
message thanks via email subject "thanks {name}"
rule thanks: when days_since == 3 then send thanks once per last_purchase_date
rule gone: when p_alive < 0.3 then tag gone once
EOF2
range=(--from 2026-07-01 --to 2026-08-31)

# Without a model: exit 1, one clear line and a hint.
set +e; out=$("$crm" simulate f.crm --db s.db "${range[@]}" --forecast 2>&1); code=$?; set -e
[ "$code" = 1 ] || fail "no model: exit $code: $out"
grep -q "needs a BG/NBD model" <<<"$out" || fail "no model: $out"
# Usage errors.
set +e
"$crm" simulate f.crm --db s.db "${range[@]}" --runs 5 >/dev/null 2>&1; [ $? = 2 ] || fail "--runs without --forecast"
"$crm" simulate f.crm --db s.db "${range[@]}" --forecast --runs 0 >/dev/null 2>&1; [ $? = 2 ] || fail "--runs 0"
"$crm" simulate f.crm --db s.db "${range[@]}" --forecast --format csv >/dev/null 2>&1; [ $? = 2 ] || fail "--format csv"
set -e

"$crm" fit --db s.db --unit days --models bgnbd >/dev/null
# --to on or before the last fact: nothing to draw.
set +e; out=$("$crm" simulate f.crm --db s.db --from 2026-06-01 --to 2026-06-30 --forecast 2>&1); code=$?; set -e
[ "$code" = 1 ] || fail "no future: exit $code: $out"
grep -q "after the store's last fact (2026-06-30)" <<<"$out" || fail "no future: $out"

a=$("$crm" simulate f.crm --db s.db "${range[@]}" --forecast --runs 8 --seed 3 --format jsonl 2>/dev/null)
b=$("$crm" simulate f.crm --db s.db "${range[@]}" --forecast --runs 8 --seed 3 --format jsonl 2>/dev/null)
c=$("$crm" simulate f.crm --db s.db "${range[@]}" --forecast --runs 8 --seed 4 --format jsonl 2>/dev/null)
[ "$a" = "$b" ] || fail "the same seed gave another forecast"
[ "$a" != "$c" ] || fail "another seed gave the same forecast"
grep -qi "nan\|inf" <<<"$a" && fail "NaN or inf in the forecast: $a"

metric() {  # metric NAME FIELD [RULE] -> the number
  local line
  if [ $# -eq 3 ]; then line=$(grep "\"metric\":\"$1\",\"rule\":\"$3\"" <<<"$a"); else line=$(grep "\"metric\":\"$1\"," <<<"$a"); fi
  sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<<"$line"
}
purchases=$(metric drawn_purchases mean)
awk -v m="$purchases" 'BEGIN { exit !(m > 0) }' || fail "no purchase drawn: $a"
for m in drawn_purchases drawn_revenue passed_actions; do
  lo=$(metric $m p05); mean=$(metric $m mean); hi=$(metric $m p95)
  awk -v l="$lo" -v m="$mean" -v h="$hi" 'BEGIN { exit !(l <= m && m <= h) }' || fail "$m: not p05 <= mean <= p95: $a"
done
awk -v l="$(metric drawn_purchases p05)" -v h="$(metric drawn_purchases p95)" 'BEGIN { exit !(l < h) }' ||
  fail "no spread in the drawn purchases: $a"

# The thank-you rule fires 3 days after a purchase: the plain backtest has no purchase after
# 06-30 (so at most those of 06-28..06-30); the forecast's drawn purchases add theirs.
backtest=$("$crm" simulate f.crm --db s.db "${range[@]}" --format csv 2>/dev/null |
  awk -F, '$2 == "thanks" { n += $6 } END { print n + 0 }')
forecast=$(metric rule_passed_actions mean thanks)
awk -v f="$forecast" -v b="$backtest" 'BEGIN { exit !(f > b + 10) }' ||
  fail "the forecast's thanks ($forecast) not above the backtest's ($backtest)"

# The text output names the interval.
"$crm" simulate f.crm --db s.db "${range[@]}" --forecast --runs 3 2>/dev/null | grep -q "5th to 95th percentile" ||
  fail "text output"
echo "simulate_forecast: ok"
