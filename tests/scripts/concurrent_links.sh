#!/usr/bin/env bash
# Reliability (issue 12.1): two runs at once on ONE store reached through its own name and a
# symlink (and a relative path) take the same run lock: the outbox equals a sequential run's;
# `crm event` through the symlink during a run waits for it. A store with a second HARD link is
# refused by every writing command (SQLite keeps a journal per name), read-only ones still work.
# usage: concurrent_links.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib/concurrent.sh"
script="$root/examples/campaigns/playbook.crm"
"$crm" sample --db "$work/a.db" --customers 30000 --seed 11 --as-of 2026-11-24 >/dev/null
cp "$work/a.db" "$work/ref.db"
"$crm" run "$script" --db "$work/ref.db" --from 2026-10-20 --to 2026-11-24 >/dev/null
mkdir "$work/other"
ln -s "$work/a.db" "$work/other/sym.db"
run_pair "$crm" "$script" "$work/other/sym.db" "$work/other/../a.db" "$work" -- --from 2026-10-20 --to 2026-11-24
same_outbox "$work/a.db" "$work/ref.db" "a sequential run's"
echo "ok: runs through a symlink and the file's own name: outbox identical to a sequential run's"

# crm event takes the same lock: while a run holds it (through the file's own name), an event
# through the symlink waits for it instead of writing in the middle of the run.
"$crm" run "$script" --db "$work/a.db" --from 2026-11-25 --to 2026-12-05 >/dev/null 2>&1 &
p3=$!
sleep 0.3
"$crm" event "$script" --db "$work/other/sym.db" --customer 1 --type cancel_request --date 2026-12-05 >"$work/ev.out" 2>&1 || true
wait $p3
grep -q "written" "$work/ev.out" || { echo "FAIL: the event did not run after the run:"; cat "$work/ev.out"; exit 1; }
echo "ok: an event through the symlink waited for the run"

# A second hard link: every writing command refuses the store, through either name, with a
# hint; nothing is written; read-only commands work; removing the link lifts the refusal.
ln "$work/a.db" "$work/other/hard.db"
before=$(sqlite3 "$work/a.db" "select count(*) from outbox")
check_refused() {  # NAME CMD...: the command exits 1 naming the hard links and the fix
  local name="$1"; shift
  local st=0
  "$@" >"$work/h.out" 2>"$work/h.err" || st=$?
  if [ "$st" != 1 ] || ! grep -q "hard links" "$work/h.err" || ! grep -q "symbolic link" "$work/h.err"; then
    echo "FAIL: $name on a hard-linked store: exit $st, expected 1 naming the hard links:"; cat "$work/h.err"; exit 1
  fi
}
check_refused "run (hard link)" "$crm" run "$script" --db "$work/other/hard.db" --date 2026-12-06
check_refused "run (own name)" "$crm" run "$script" --db "$work/a.db" --date 2026-12-06
check_refused "run (symlink)" "$crm" run "$script" --db "$work/other/sym.db" --date 2026-12-06
check_refused "event" "$crm" event "$script" --db "$work/other/hard.db" --customer 2 --type cancel_request --date 2026-12-06
check_refused "init" "$crm" init --db "$work/other/hard.db"
after=$(sqlite3 "$work/a.db" "select count(*) from outbox")
[ "$before" = "$after" ] || { echo "FAIL: a refused command wrote the outbox ($before -> $after rows)"; exit 1; }
"$crm" run "$script" --db "$work/other/hard.db" --date 2026-12-06 --dry-run >/dev/null 2>"$work/dry.err" \
  || { echo "FAIL: a dry run (read-only) through a hard link failed:"; cat "$work/dry.err"; exit 1; }
rm "$work/other/hard.db"
"$crm" run "$script" --db "$work/other/sym.db" --date 2026-12-06 >/dev/null 2>"$work/last.err" \
  || { echo "FAIL: the run after removing the hard link failed:"; cat "$work/last.err"; exit 1; }
echo "ok: a hard-linked store is refused by run, event and init, read by a dry run"
