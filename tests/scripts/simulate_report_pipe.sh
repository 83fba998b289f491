#!/usr/bin/env bash
# `crm simulate --report r.html | head` and `crm outcomes --report`: the report is complete even
# when the reader of stdout stops early, and a failed write leaves no partial file.
# usage: simulate_report_pipe.sh CRM_BINARY PROJECT_DIR
set -euo pipefail
crm="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$crm" sample --db shop.db --customers 300 --seed 5 --as-of 2026-06-30 2>/dev/null
script="$2/examples/campaigns/winback.crm"
# The reader is gone before the output comes: crm dies of SIGPIPE on its first write to stdout.
(set +o pipefail; "$crm" simulate "$script" --db shop.db --from 2026-05-01 --to 2026-06-30 --report r.html | true)
[ -s r.html ] || { echo "FAIL: the report is empty after | head"; exit 1; }
tail -n 1 r.html | grep -q '</html>' || { echo "FAIL: the report is cut short"; exit 1; }
grep -q 'id="outcomes"' r.html || { echo "FAIL: no outcomes section in the simulate report"; exit 1; }
(set +o pipefail; "$crm" outcomes "$script" --db shop.db --from 2026-05-01 --to 2026-05-31 --report o.html | true)
tail -n 1 o.html | grep -q '</html>' || { echo "FAIL: the outcomes report is cut short"; exit 1; }
ls | grep -q 'tmp-' && { echo "FAIL: a temporary report file was left behind"; ls; exit 1; }
echo "reports ok"
