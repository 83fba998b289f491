#!/usr/bin/env bash
# Property: over random small stores, `crm simulate --format jsonl` of a range equals the union of
# single-day real runs of the same days, each day in its own process with the history carried
# by the outbox (and tags by the tags table) — the in-memory carry of a simulation and the
# store's carry of daily runs agree.  usage: simulate_property.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
script="$root/examples/campaigns/playbook.crm"
from=2026-11-05; to=2026-11-24
for seed in 3 17 29 41 58; do
  customers=$((150 + seed * 7))
  "$crm" sample --db "$work/s$seed.db" --customers $customers --seed $seed --as-of 2026-11-24 >/dev/null
  cp "$work/s$seed.db" "$work/r$seed.db"
  "$crm" simulate "$script" --db "$work/s$seed.db" --from $from --to $to --format jsonl > "$work/sim.jsonl"
  : > "$work/days.jsonl"
  d=$from
  while :; do
    "$crm" run "$script" --db "$work/r$seed.db" --date "$d" --format jsonl >> "$work/days.jsonl"
    [ "$d" = "$to" ] && break
    d=$(date -d "$d + 1 day" +%F)
  done
  lines=$(wc -l < "$work/sim.jsonl")
  if ! diff -q "$work/sim.jsonl" "$work/days.jsonl" >/dev/null; then
    echo "FAIL: seed $seed ($customers customers): simulate differs from day-by-day runs"
    diff "$work/sim.jsonl" "$work/days.jsonl" | head -20
    exit 1
  fi
  [ "$lines" -gt 0 ] || { echo "FAIL: seed $seed produced no actions"; exit 1; }
  echo "seed $seed: $customers customers, $lines actions over $from..$to: identical"
done
echo "simulate == day-by-day runs with carried history, on 5 random stores"
