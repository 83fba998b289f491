#!/usr/bin/env bash
# Byte-identical outputs of two crm binaries on one store (not a ctest test; tests/bench/README.md):
# a dry run (jsonl), simulate over 61 days (jsonl), and real runs of two days plus a rerun (the
# summaries, then the outbox rows without created_at/idem_hash, and the tags). Each binary gets
# its own copy of STORE, migrated with its own `crm init` (so schema versions may differ).
# Usage: tests/bench/same_outputs.sh BEFORE_CRM AFTER_CRM STORE [DATE]
set -u
B=$1; A=$2; S=$3; D=${4:-2026-11-24}
PB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/playbook20.crm"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
prev=$(date -d "$D - 1 day" +%F); from=$(date -d "$D - 60 days" +%F)
for who in B A; do
  c=$(realpath "${!who}")
  mkdir -p "$W/src$who" "$W/$who"
  cp "$S" "$W/src$who/s.db"; "$c" init --db "$W/src$who/s.db" >/dev/null
  "$c" run "$PB" --db "$W/src$who/s.db" --date "$D" --dry-run --format jsonl >"$W/$who.dry" 2>"$W/$who.dry.err"
  "$c" simulate "$PB" --db "$W/src$who/s.db" --from "$from" --to "$D" --format jsonl >"$W/$who.sim" 2>"$W/$who.sim.err"
  cp "$S" "$W/$who/s.db"; "$c" init --db "$W/$who/s.db" >/dev/null
  (cd "$W/$who" && for d in "$prev" "$D" "$D"; do "$c" run "$PB" --db s.db --date "$d" >>../$who.run 2>>../$who.run.err; done)
  sqlite3 "$W/$who/s.db" "SELECT id, run_date, customer_id, rule, action, target, channel, payload, idem_key FROM outbox ORDER BY id" >"$W/$who.outbox"
  sqlite3 "$W/$who/s.db" "SELECT customer_id, tag, set_at FROM tags ORDER BY rowid" >"$W/$who.tags"
done
status=0
for f in dry dry.err sim sim.err run run.err outbox tags; do
  if cmp -s "$W/B.$f" "$W/A.$f"; then echo "same $f ($(wc -l <"$W/A.$f") lines)"; else echo "DIFFERENT $f"; status=1; fi
done
exit $status
