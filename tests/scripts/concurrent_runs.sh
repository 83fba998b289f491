#!/usr/bin/env bash
# Reliability: two real runs on one store at once: the second waits for the first (or fails
# with a clear message); never a double send.  usage: concurrent_runs.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib/concurrent.sh"
script="$root/examples/campaigns/playbook.crm"
"$crm" sample --db "$work/a.db" --customers 3000 --seed 11 --as-of 2026-11-24 >/dev/null
cp "$work/a.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from 2026-11-10 --to 2026-11-24 >/dev/null
run_pair "$crm" "$script" "$work/a.db" "$work/a.db" "$work" -- --from 2026-11-10 --to 2026-11-24
same_outbox "$work/a.db" "$work/ref.db" "a single run's"
echo "two concurrent runs: outbox identical to a single run"
