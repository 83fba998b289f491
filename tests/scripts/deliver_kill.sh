#!/usr/bin/env bash
# At-least-once: `crm deliver` killed with SIGKILL at 20 random moments (mid-request, mid-commit,
# mid-backoff), then rerun to the end, loses nothing: the receiver's dedupe set is exactly the
# outbox's idem_keys, and every row is delivered in the store. Repeats after a crash carry the
# same idem_key (a different key would show up as an extra key in the dedupe set).
# usage: deliver_kill.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d)
source "$root/tests/receiver/receiver_lib.sh"
trap 'stop_receivers; rm -rf "$work"' EXIT
make_store "$work/s.db"
total=$(q "$work/s.db" "select count(*) from outbox")
# Each answer takes 10 ms and 10 % of them fail, so a full delivery row by row lasts ~5 s: the 20
# kills (after 0.01-0.30 s each) land in the middle of it.
start_receiver k --delay 0.01 --fail-rate 0.1 --fail-kinds 500,drop --seed 5

kills=0
for attempt in $(seq 20); do
  "$crm" deliver --db "$work/s.db" --webhook "$url" --batch 1 --backoff-base 0.01 --max-attempts 20 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%02d' $((RANDOM % 30 + 1)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
done
mid=$(q "$work/s.db" "select count(*) from deliveries where status = 'delivered'")
"$crm" deliver --db "$work/s.db" --webhook "$url" --batch 1 --backoff-base 0.01 --max-attempts 20 >"$work/out" ||
  fail "the final delivery failed: $(cat "$work/out")"
received=$(wc -l <"$work/k.log")
echo "$kills kills landed; $mid of $total rows delivered before the final run; $received rows received in all"
[ "$kills" -ge 10 ] || fail "only $kills of 20 kills hit a running crm deliver: the test proves little"
q "$work/s.db" "select idem_key from outbox order by 1" >"$work/expected"
sort "$work/k.keys" | diff - "$work/expected" >/dev/null || fail "the receiver's dedupe set differs from the outbox's idem_keys"
[ "$(sort "$work/k.keys" | uniq -d | wc -l)" = 0 ] || fail "the dedupe set holds a key twice"
[ "$(q "$work/s.db" "select count(*) from deliveries where status = 'delivered'")" = "$total" ] || fail "not every row is delivered"
echo "deliver kill -9: nothing lost after $kills kills; repeats carried the same keys"
