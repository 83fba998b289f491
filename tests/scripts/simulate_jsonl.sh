#!/usr/bin/env bash
# crm simulate on a sample store: its jsonl is exactly `crm run --dry-run --format jsonl` over the
# same range, its csv counts add up to the same actions, it writes nothing to the store, and
# outbox rows of real runs dated on or after --from do not leak into a backtest.
# usage: simulate_jsonl.sh PATH/TO/crm PROJECT_DIR
set -euo pipefail
crm="$1"
root="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
script="$root/examples/campaigns/playbook.crm"
fail() { echo "FAIL: $*"; exit 1; }

"$crm" sample --db "$tmp/shop.db" --customers 2000 --seed 7 --as-of 2026-11-24 2>/dev/null
range=(--from 2026-10-01 --to 2026-11-24)
"$crm" simulate "$script" --db "$tmp/shop.db" "${range[@]}" --format jsonl >"$tmp/sim.jsonl"
"$crm" run "$script" --db "$tmp/shop.db" "${range[@]}" --dry-run --format jsonl >"$tmp/run.jsonl"
[ "$(wc -l <"$tmp/sim.jsonl")" -gt 100 ] || fail "too few actions: $(wc -l <"$tmp/sim.jsonl")"
cmp -s "$tmp/sim.jsonl" "$tmp/run.jsonl" || { diff "$tmp/run.jsonl" "$tmp/sim.jsonl" | head; fail "simulate jsonl != run --dry-run jsonl"; }

# csv: the counts of every row add up to the number of jsonl lines, status by status.
"$crm" simulate "$script" --db "$tmp/shop.db" "${range[@]}" --format csv >"$tmp/sim.csv"
head -1 "$tmp/sim.csv" | grep -qx "date,rule,action,target,channel,sent,held_out,blocked_consent,blocked_cap" || fail "csv header"
csv_sent=$(awk -F, 'NR>1 {s+=$(NF-3)} END {print s}' "$tmp/sim.csv")
json_sent=$(grep -c '"status":"sent"' "$tmp/sim.jsonl")
[ "$csv_sent" = "$json_sent" ] || fail "csv sent $csv_sent != jsonl sent $json_sent"
csv_all=$(awk -F, 'NR>1 {s+=$(NF-3)+$(NF-2)+$(NF-1)+$NF} END {print s}' "$tmp/sim.csv")
[ "$csv_all" = "$(wc -l <"$tmp/sim.jsonl")" ] || fail "csv total $csv_all != jsonl lines"

# The text totals agree with the jsonl too, and nothing was written to the store.
"$crm" simulate "$script" --db "$tmp/shop.db" "${range[@]}" >"$tmp/sim.txt"
total_line=$(grep -E '^  total ' "$tmp/sim.txt" | head -1 | tr -d ',')
[ "$(awk '{print $2}' <<<"$total_line")" = "$json_sent" ] || fail "text total '$total_line' != $json_sent sent"
[ "$(sqlite3 "$tmp/shop.db" 'SELECT count(*) FROM outbox')" = 0 ] || fail "simulate wrote to the outbox"
[ "$(sqlite3 "$tmp/shop.db" 'SELECT count(*) FROM runs')" = 0 ] || fail "simulate recorded a run"

# A real run on 2026-10-20 fills the outbox; a backtest from 2026-10-01 must not see it.
cp "$tmp/shop.db" "$tmp/live.db"
"$crm" run "$script" --db "$tmp/live.db" --date 2026-10-20 >/dev/null
[ "$(sqlite3 "$tmp/live.db" 'SELECT count(*) FROM outbox')" -gt 0 ] || fail "the real run wrote nothing"
"$crm" simulate "$script" --db "$tmp/live.db" "${range[@]}" --format jsonl >"$tmp/live.jsonl"
cmp -s "$tmp/sim.jsonl" "$tmp/live.jsonl" || fail "outbox rows after --from leaked into the backtest"
echo "simulate jsonl ok ($json_sent sent, $(wc -l <"$tmp/sim.jsonl") actions)"
