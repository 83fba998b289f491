#!/usr/bin/env bash
# crm deliver's permanent failures and its word on them: a 400 fails only the rows it concerns
# (a refused batch is split), --status lists them with the error, --retry-failed requeues them;
# an unreachable webhook fails after the attempts with a one-line error; single-row posts carry
# an Idempotency-Key header; tokens and URL passwords are never printed or stored; --dry-run
# writes nothing; a second crm deliver on the same store (through a symlink) is refused while the first runs.
# usage: deliver_failures.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d)
source "$root/tests/receiver/receiver_lib.sh"
trap 'stop_receivers; rm -rf "$work"' EXIT
make_store "$work/s.db"
total=$(q "$work/s.db" "select count(*) from outbox")
bad=$(q "$work/s.db" "select count(*) from outbox where idem_key like 'winback.%'")
[ "$bad" -gt 0 ] || fail "no winback rows to refuse"

# --- dry run: JSON lines of what would be posted, and not one byte of the store changes.
before=$(q "$work/s.db" .dump | md5sum)
"$crm" deliver --db "$work/s.db" --webhook http://127.0.0.1:9/never --dry-run >"$work/dry" 2>"$work/dry.err"
[ "$(wc -l <"$work/dry")" = "$total" ] || fail "the dry run printed $(wc -l <"$work/dry") rows, not $total"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$work/dry" || fail "dry run lines are not JSON"
grep -q '"status":"sent","outbox_id":' "$work/dry" || fail "the dry run lines lack the action keys"
grep -q '"recipient":{"id":' "$work/dry" || fail "the dry run lines lack the recipient"
[ "$(q "$work/s.db" .dump | md5sum)" = "$before" ] || fail "the dry run changed the store"
grep -q "nothing was posted or written" "$work/dry.err" || fail "the dry run does not say it wrote nothing"

# --- a receiver that refuses (400) any post holding a winback row, and wants a bearer token.
start_receiver strict --reject 'winback.' --token 'tok-Secret-123'
export CRM_TEST_TOKEN='tok-Secret-123'
rc=0
"$crm" deliver --db "$work/s.db" --webhook "$url" --token-env CRM_TEST_TOKEN --batch 25 >"$work/out" 2>"$work/err" || rc=$?
cat "$work/out" "$work/err"
[ "$rc" = 1 ] || fail "exit $rc, expected 1 when rows failed"
[ "$(wc -l <"$work/err")" -le 2 ] || fail "the error is more than one line and a hint"
failed=$(q "$work/s.db" "select count(*) from deliveries where status = 'failed'")
delivered=$(q "$work/s.db" "select count(*) from deliveries where status = 'delivered'")
[ "$failed" = "$bad" ] || fail "$failed rows failed, expected the $bad winback rows only"
[ "$delivered" = $((total - bad)) ] || fail "$delivered rows delivered, expected $((total - bad))"
q "$work/s.db" "select count(*) from deliveries where status = 'failed' and last_error like 'HTTP 400 from %rejected on purpose%'" |
  grep -qx "$bad" || fail "the failed rows do not carry the HTTP 400 error"
"$crm" deliver --db "$work/s.db" --status >"$work/status"
grep -Eq "failed +$bad" "$work/status" || fail "--status does not count $bad failed rows"
grep -q "HTTP 400" "$work/status" || fail "--status does not show the last error"
# Single-row posts (the split batches) carry the row's key in an Idempotency-Key header.
python3 - "$work/strict.log" <<'PY'
import json, sys
singles = [r for r in map(json.loads, open(sys.argv[1])) if r["batch"] == 1]
assert singles, "no single-row posts: the refused batches were not split"
assert all(r["header_key"] == r["idem_key"] for r in singles), "Idempotency-Key header differs from idem_key"
PY
# Rerunning without --retry-failed posts nothing; with it, the rows go again (the receiver still refuses).
"$crm" deliver --db "$work/s.db" --webhook "$url" --token-env CRM_TEST_TOKEN >"$work/out2" 2>&1
grep -q "delivered 0 row(s) in 0 post(s)" "$work/out2" || fail "a rerun touched delivered or failed rows: $(cat "$work/out2")"
stop_receivers
start_receiver lenient --token 'tok-Secret-123'
"$crm" deliver --db "$work/s.db" --webhook "$url" --token-env CRM_TEST_TOKEN --retry-failed >"$work/out3" 2>"$work/err3" ||
  fail "the retry of failed rows failed: $(cat "$work/out3" "$work/err3")"
grep -q "requeued $bad failed row(s)" "$work/err3" || fail "--retry-failed did not say it requeued $bad rows"
[ "$(q "$work/s.db" "select count(*) from deliveries where status = 'delivered'")" = "$total" ] || fail "not all delivered after --retry-failed"
[ "$(wc -l <"$work/lenient.keys")" = "$bad" ] || fail "the requeued rows were not the only ones posted again"
# A missing token variable is a clear error before anything is posted.
rc=0; "$crm" deliver --db "$work/s.db" --webhook "$url" --token-env CRM_NO_SUCH_VAR >/dev/null 2>"$work/err4" || rc=$?
[ "$rc" = 1 ] && grep -q "CRM_NO_SUCH_VAR" "$work/err4" || fail "a missing token variable is not reported (exit $rc)"

# --- an unreachable webhook (a port nobody listens on), with a password in its URL.
make_store "$work/u.db" 60
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rc=0
"$crm" deliver --db "$work/u.db" --webhook "http://shop:pw-Hidden-9@127.0.0.1:$dead/hook?key=qs-Hidden-8" --max-attempts 3 \
  --backoff-base 0.01 --timeout 1 >"$work/uout" 2>"$work/uerr" || rc=$?
cat "$work/uout" "$work/uerr"
[ "$rc" = 1 ] || fail "exit $rc for an unreachable webhook, expected 1"
grep -q "cannot reach http://\*\*\*@127.0.0.1:$dead/hook?\*\*\*" "$work/uerr" || fail "the error does not name the (redacted) webhook"
[ "$(q "$work/u.db" "select count(*) from deliveries where status = 'failed'")" -gt 0 ] || fail "no failed rows recorded"
[ "$(q "$work/u.db" "select count(*) from deliveries where status = 'delivered'")" = 0 ] || fail "rows delivered to nowhere"
# Secrets appear nowhere: not in any output, not in the store.
for f in "$work"/out* "$work"/err* "$work"/uout "$work"/uerr "$work/status"; do
  ! grep -Eq "tok-Secret-123|pw-Hidden-9|qs-Hidden-8" "$f" || fail "a secret was printed in $(basename "$f")"
done
! q "$work/u.db" .dump | grep -Eq "pw-Hidden-9|qs-Hidden-8" || fail "a URL secret was stored"
! q "$work/s.db" .dump | grep -q "tok-Secret-123" || fail "the token was stored"

# --- one crm deliver at a time: a second one is refused while the first waits on a slow receiver.
make_store "$work/l.db" 60
start_receiver slow --delay 0.3
"$crm" deliver --db "$work/l.db" --webhook "$url" --batch 1 >/dev/null 2>&1 &
first=$!
sleep 0.5
# (through a symlink: the lock is the store's real path, not the path string; issue 12.1)
mkdir "$work/elsewhere"; ln -s "$work/l.db" "$work/elsewhere/link.db"
rc=0; "$crm" deliver --db "$work/elsewhere/link.db" --webhook "$url" >/dev/null 2>"$work/lerr" || rc=$?
kill "$first" 2>/dev/null || true; wait "$first" 2>/dev/null || true
[ "$rc" = 1 ] && grep -q "another crm deliver is delivering" "$work/lerr" || fail "a second crm deliver was not refused (exit $rc)"
echo "deliver failures: 400s fail alone, status and retry-failed work, secrets stay hidden, one deliver at a time"
