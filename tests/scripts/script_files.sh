#!/usr/bin/env bash
# Robustness (issue 12.5): a script must be a regular file under the size limit (devices,
# directories and FIFOs are refused at once with a clear error), and imports stay inside the
# script's folder tree and the stdlib unless --allow-imports-outside.
# usage: script_files.sh CRM PROJECT_DIR
set -uo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cwd"; cd "$work"
fail=0
expect() {  # expect WHAT EXIT PATTERN -- command...
  local what="$1" want="$2" pat="$3"; shift 4
  timeout 20 "$@" >out.txt 2>err.txt </dev/null; local got=$?
  if [ "$got" != "$want" ] || ! grep -q -- "$pat" err.txt; then
    echo "FAIL: $what: exit $got (want $want), stderr:"; head -c 600 err.txt; echo; fail=1
  else echo "ok: $what"; fi
}
mkdir -p proj/lib dir.crm outside
printf 'message hi via email\nrule r: when purchase_count > 0 then send hi\n' > outside/evil.crm
printf 'let shared = 1\n' > proj/lib/util.crm
mkfifo fifo.crm
truncate -s 17M big.crm
expect "check /dev/zero" 1 "is a device, not a script file" -- "$crm" check /dev/zero
timeout 20 "$crm" check /dev/stdin </dev/zero >out.txt 2>err.txt; got=$?
if [ $got != 1 ] || ! grep -q "not a script file" err.txt; then echo "FAIL: check /dev/stdin < /dev/zero: exit $got"; cat err.txt; fail=1; else echo "ok: check /dev/stdin < /dev/zero"; fi
expect "check a directory" 1 "is a directory, not a script file" -- "$crm" check dir.crm
expect "check a FIFO" 1 "is a pipe (FIFO)" -- "$crm" check fifo.crm
expect "fmt a FIFO" 1 "is a pipe (FIFO)" -- "$crm" fmt fifo.crm
expect "check a 17 MiB file" 1 "larger than the limit for a script" -- "$crm" check big.crm
"$crm" init --db s.db >/dev/null 2>&1
expect "run /dev/zero" 1 "not a script file" -- "$crm" run /dev/zero --db s.db --dry-run
# Imports: inside the tree is fine, outside is refused, a symlink out is refused too. Run from
# another folder (the current folder's tree is allowed too).
printf 'import "lib/util"\nmessage hi via email\nrule r: when shared > 0 then send hi\n' > proj/inside.crm
printf 'import "../outside/evil"\n' > proj/up.crm
ln -s /etc/passwd proj/lib/passwd.crm
printf 'import "lib/passwd"\n' > proj/link.crm
printf 'import "std/../../../../../../../etc/passwd"\n' > proj/stdesc.crm
cd cwd
expect "import below the script's folder" 0 "no errors" -- "$crm" check ../proj/inside.crm
expect "import through .." 1 "reaches outside the script's folder" -- "$crm" check ../proj/up.crm
expect "import through .. with --allow-imports-outside" 0 "no errors" -- "$crm" check --allow-imports-outside ../proj/up.crm
expect "import of a symlink to /etc/passwd" 1 "reaches outside the script's folder" -- "$crm" check ../proj/link.crm
if grep -q "root:" err.txt; then echo "FAIL: a line of /etc/passwd was printed"; fail=1; fi
# A script named on the command line that is itself a symlink out of its folder (and of the
# current folder) is refused the same way, before it is read; a link inside its folder is fine.
expect "check of a symlinked script -> /etc/passwd" 1 "symbolic link to a file outside" -- "$crm" check ../proj/lib/passwd.crm
if grep -q "root:" err.txt; then echo "FAIL: check printed a line of /etc/passwd"; fail=1; fi
expect "run of a symlinked script -> /etc/passwd" 1 "symbolic link to a file outside" -- "$crm" run ../proj/lib/passwd.crm --db ../s.db --dry-run
if grep -q "root:" err.txt; then echo "FAIL: run printed a line of /etc/passwd"; fail=1; fi
expect "fmt of a symlinked script -> /etc/passwd" 1 "symbolic link to a file outside" -- "$crm" fmt --stdout ../proj/lib/passwd.crm
if grep -q "root:" err.txt out.txt; then echo "FAIL: fmt printed a line of /etc/passwd"; fail=1; fi
printf 'message   hi via email\n' > ../outside/fmtme.crm; ln -s ../outside/fmtme.crm ../proj/fmtlink.crm
expect "fmt of a symlink out of the folder writes nothing" 1 "symbolic link to a file outside" -- "$crm" fmt ../proj/fmtlink.crm
grep -q "message   hi" ../outside/fmtme.crm || { echo "FAIL: fmt rewrote a file outside the folder through a symlink"; fail=1; }
ln -s inside.crm ../proj/current.crm
expect "a symlinked script inside its folder" 0 "no errors" -- "$crm" check ../proj/current.crm
"$crm" check ../proj/stdesc.crm >out.txt 2>err.txt
if grep -q "root:" err.txt || ! grep -q "error" err.txt; then echo "FAIL: std/../ import escaped:"; cat err.txt; fail=1; else echo "ok: std/.. import"; fi
exit $fail
