#!/usr/bin/env bash
# crm fmt rewriting files in place: only changed files are written (same inode otherwise), the
# result is canonical (a second --check passes), permissions are kept, a file that does not
# parse is left byte-for-byte untouched, and no temporary file is left behind.
set -euo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

printf 'let  a=1\nrule r: when a>0 then tag t   # keep me\n' > messy.crm
printf 'let a = 1\n' > clean.crm
printf 'let a = \n' > broken.crm
chmod 640 messy.crm
cp broken.crm broken.orig
inode_clean=$(stat -c %i clean.crm)

set +e
"$crm" fmt --check messy.crm clean.crm > out.txt; code=$?
set -e
[ "$code" = 1 ] || fail "--check on a messy file: exit $code, expected 1"
[ "$(cat out.txt)" = "would reformat: messy.crm" ] || fail "--check output: $(cat out.txt)"

"$crm" fmt messy.crm clean.crm || fail "fmt exit $?"
expected=$'let a = 1\n\nrule r:\n  when a > 0\n  then tag t  # keep me'
[ "$(cat messy.crm)" = "$expected" ] || fail "rewritten text: $(cat messy.crm)"
[ "$(stat -c %a messy.crm)" = 640 ] || fail "permissions not kept: $(stat -c %a messy.crm)"
[ "$(stat -c %i clean.crm)" = "$inode_clean" ] || fail "an already formatted file was rewritten"
"$crm" fmt --check messy.crm clean.crm > out.txt || fail "--check after fmt: $(cat out.txt)"
[ ! -s out.txt ] || fail "--check after fmt printed: $(cat out.txt)"

set +e
"$crm" fmt broken.crm messy.crm 2> err.txt; code=$?
set -e
[ "$code" = 1 ] || fail "fmt on a broken file: exit $code, expected 1"
grep -q "broken.crm:1:" err.txt || fail "no diagnostic for broken.crm: $(cat err.txt)"
cmp -s broken.crm broken.orig || fail "broken.crm was modified"
leftovers=$(ls -A | grep -c crmfmt || true)
[ "$leftovers" = 0 ] || fail "temporary files left: $(ls -A)"
echo ok
