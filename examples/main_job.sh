#!/usr/bin/env bash
# The README's main job: build the sample shop store, check the example campaigns, and
# dry-run them for today, printing what would be sent.  usage: main_job.sh PATH/TO/crm
set -euo pipefail
crm="$1"
cd "$(dirname "$0")/.."
db=build/sample.db
today=$(date +%F)
echo "== generating the sample shop (10,000 customers, as of $today) into $db"
rm -f "$db" "$db-wal" "$db-shm"
"$crm" sample --db "$db" --as-of "$today"
echo "== checking the example campaigns"
"$crm" check examples/campaigns/playbook.crm
echo "== dry run of the example campaigns for $today (nothing is written to the store)"
"$crm" run examples/campaigns/playbook.crm --db "$db" --date "$today" --dry-run
