#!/usr/bin/env bash
# Robustness (issue 12.3): deep input is refused with a clear error by every command that walks
# it recursively (check, fmt, run, simulate, explain), never a stack overflow (exit 139).
# usage: depth_limits.sh CRM PROJECT_DIR
set -uo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
"$crm" sample --db shop.db --customers 50 --seed 1 --as-of 2026-11-24 >/dev/null || exit 1
python3 - <<'PY'
s = 'message hi via email\nlet d0 = purchase_count\n'
for i in range(1, 20000):
    s += 'let d%d = d%d + 1\n' % (i, i - 1)
s += 'rule r: when d19999 > 0 then send hi\n'
open('lets.crm', 'w').write(s)
open('parens.crm', 'w').write('message hi via email\nrule r: when ' + '(' * 100000 + '1' + ')' * 100000 + ' > 0 then send hi\n')
open('plus.crm', 'w').write('message hi via email\nrule r: when ' + ' + '.join(['1'] * 100000) + ' > 0 then send hi\n')
PY
fail=0
expect() {  # expect WHAT EXIT PATTERN -- command...
  local what="$1" want="$2" pat="$3"; shift 4
  "$@" >out.txt 2>err.txt; local got=$?
  if [ "$got" != "$want" ] || ! grep -q -- "$pat" err.txt; then
    echo "FAIL: $what: exit $got (want $want), stderr:"; head -c 600 err.txt; echo; fail=1
  else echo "ok: $what"; fi
}
expect "check of 20,000 chained lets" 1 "levels deep through the definitions" -- "$crm" check lets.crm
expect "run of 20,000 chained lets" 1 "levels deep" -- "$crm" run lets.crm --db shop.db --date 2026-11-24 --dry-run
expect "simulate of 20,000 chained lets" 1 "levels deep" -- "$crm" simulate lets.crm --db shop.db --from 2026-11-20 --to 2026-11-24
expect "explain of 20,000 chained lets" 1 "levels deep" -- "$crm" explain lets.crm --db shop.db --customer 1 --date 2026-11-24
expect "check of 100,000 nested parentheses" 1 "nested too deeply" -- "$crm" check parens.crm
expect "fmt of 100,000 nested parentheses" 1 "nested too deeply" -- "$crm" fmt parens.crm
expect "check of a 100,000-term sum" 1 "deep" -- "$crm" check plus.crm
expect "fmt of a 100,000-term sum" 1 "deep" -- "$crm" fmt plus.crm
exit $fail
