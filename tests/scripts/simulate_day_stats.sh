#!/usr/bin/env bash
# crm simulate --day-stats: one line per simulated day after the header; the first day is
# computed from scratch (every customer recomputed), the later ones only touch the customers
# with facts that day (orders dated that day are among the counted facts); the actions column
# adds up to the jsonl lines; an unwritable path fails before simulating.
# usage: simulate_day_stats.sh PATH/TO/crm PROJECT_DIR
set -euo pipefail
crm="$1"
root="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
script="$root/examples/campaigns/playbook.crm"
fail() { echo "FAIL: $*"; exit 1; }

customers=3000
"$crm" sample --db "$tmp/shop.db" --customers $customers --seed 5 --as-of 2026-11-24 2>/dev/null
range=(--from 2026-10-26 --to 2026-11-24)
"$crm" simulate "$script" --db "$tmp/shop.db" "${range[@]}" --format jsonl --day-stats "$tmp/days.tsv" >"$tmp/sim.jsonl"

[ "$(head -1 "$tmp/days.tsv")" = $'date\tfacts\trecomputed_customers\tactions\tattributes_cpu_ms\trules_cpu_ms' ] ||
  fail "header: $(head -1 "$tmp/days.tsv")"
[ "$(wc -l <"$tmp/days.tsv")" -eq 31 ] || fail "expected 30 days + header, got $(wc -l <"$tmp/days.tsv") lines"
awk -F'\t' 'NR == 2 && ($1 != "2026-10-26" || $2 != 0 || $3 != '$customers') { exit 1 }' "$tmp/days.tsv" ||
  fail "first day not computed from scratch: $(sed -n 2p "$tmp/days.tsv")"
awk -F'\t' 'NR > 2 && !($3 < '$customers' && $5 >= 0 && $6 >= 0) { exit 1 }' "$tmp/days.tsv" ||
  fail "a later day recomputed every customer"
# Orders dated each day are counted among its facts.
while IFS=$'\t' read -r d facts _; do
  orders=$(sqlite3 "$tmp/shop.db" "SELECT count(*) FROM orders WHERE substr(ordered_at, 1, 10) = '$d'" 2>/dev/null || echo 0)
  # the sample's ordered_at is local wall-clock time without an offset: its date is the day
  [ "$facts" -ge "$orders" ] && [ "$orders" -gt 0 ] || fail "$d: $facts facts but $orders orders"
done < <(tail -n +3 "$tmp/days.tsv")
sum=$(awk -F'\t' 'NR > 1 { s += $4 } END { print s }' "$tmp/days.tsv")
[ "$sum" -eq "$(wc -l <"$tmp/sim.jsonl")" ] || fail "actions column adds up to $sum, jsonl has $(wc -l <"$tmp/sim.jsonl") lines"

if "$crm" simulate "$script" --db "$tmp/shop.db" "${range[@]}" --day-stats "$tmp/no/such/dir/d.tsv" >/dev/null 2>"$tmp/err"; then
  fail "an unwritable --day-stats path succeeded"
fi
grep -q "cannot write the day statistics" "$tmp/err" || fail "error message: $(cat "$tmp/err")"
echo "simulate --day-stats: 30 days, first from scratch, later days incremental, $sum actions"
