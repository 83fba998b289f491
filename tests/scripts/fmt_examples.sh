#!/usr/bin/env bash
# The shipped .crm files (examples, stdlib, golden run scripts) are in canonical format and
# check cleanly, so what users copy from is what `crm fmt` and `crm check` accept.
# usage: fmt_examples.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
cd "$root"
files=(examples/campaigns/*.crm stdlib/*.crm)
"$crm" fmt --check "${files[@]}"
for f in examples/campaigns/playbook.crm stdlib/*.crm; do "$crm" check "$f"; done
echo "examples and stdlib: formatted and checked"
