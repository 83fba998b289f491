#!/usr/bin/env bash
# crm deliver against a receiver that fails on purpose (500s, answers slower than the timeout,
# dropped connections, 429 with Retry-After): every outbox row is received at least once, the
# receiver's dedupe processes each idem_key once, and the waits between retries follow the
# backoff (d_n in [b*2^(n-1)/2, b*2^(n-1)]) and Retry-After.
# usage: deliver_faults.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d)
source "$root/tests/receiver/receiver_lib.sh"
trap 'stop_receivers; rm -rf "$work"' EXIT
make_store "$work/s.db"
total=$(q "$work/s.db" "select count(*) from outbox")
[ "$total" -gt 100 ] || fail "the run wrote only $total outbox rows"

# --- 1. 40 % of the requests fail, in every way (429 less often: each costs 1 s); retries until all are in.
start_receiver flaky --fail-rate 0.4 --fail-kinds 500,slow,drop,500,slow,drop,500,drop,429 --slow 0.5 --retry-after 1 --seed 3
rc=0
"$crm" deliver --db "$work/s.db" --webhook "$url" --batch 10 --timeout 0.25 --backoff-base 0.02 --backoff-max 2 \
  --max-attempts 12 >"$work/out1" 2>"$work/err1" || rc=$?
cat "$work/out1" "$work/err1"
[ "$rc" = 0 ] || fail "crm deliver exited $rc against the flaky receiver"
q "$work/s.db" "select idem_key from outbox order by 1" > "$work/expected"
python3 - "$work/flaky.log" "$work/expected" "$work/flaky.keys" <<'PY'
import json, sys, collections
log = [json.loads(l) for l in open(sys.argv[1])]
expected = open(sys.argv[2]).read().split("\n")[:-1]
processed = open(sys.argv[3]).read().split("\n")[:-1]
received = collections.Counter(r["idem_key"] for r in log)
outcomes = collections.Counter(r["outcome"] for r in log)
print("receiver outcomes per row:", dict(outcomes))
missing = [k for k in expected if received[k] == 0]
assert not missing, f"rows never received: {missing[:5]}"
assert len(processed) == len(set(processed)), "the dedupe set holds a key twice"
assert sorted(processed) == sorted(expected), "the processed keys differ from the outbox's idem_keys"
for kind in ("500", "slow", "drop", "429"):
    assert outcomes[kind] > 0, f"the receiver never failed with {kind}: the test proves nothing"
repeats = sum(1 for k in expected if received[k] > 1)
dups_after_processing = sum(1 for r in log if r["outcome"] == "processed") - len(set(
    r["idem_key"] for r in log if r["outcome"] in ("processed", "slow"))) + outcomes["slow"]
print(f"{len(expected)} rows, {repeats} received more than once, all processed exactly once after dedupe")
# A 429 said Retry-After: 1, so the same rows came back no sooner than 1 s later.
by_key = collections.defaultdict(list)
for r in log: by_key[r["idem_key"]].append(r)
for k, rs in by_key.items():
    for a, b in zip(rs, rs[1:]):
        if a["outcome"] == "429":
            assert b["t"] - a["t"] >= 0.95, f"{k}: retried {b['t'] - a['t']:.3f} s after a 429 with Retry-After: 1"
PY
[ "$(q "$work/s.db" "select count(*) from deliveries where status = 'delivered'")" = "$total" ] || fail "not every row is delivered in the store"
grep -q "delivered $total row(s)" "$work/out1" || fail "the summary does not count $total rows"

# --- 2. The backoff: 4 answers of 500 to one batch, then 200; waits ~ 0.2, 0.4, 0.8, 1.6 s (jittered down to half).
make_store "$work/b.db" 60
start_receiver backoff --fail-first 4 --fail-kinds 500
"$crm" deliver --db "$work/b.db" --webhook "$url" --batch 1000 --backoff-base 0.2 --max-attempts 6 >/dev/null
python3 - "$work/backoff.log" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
first = [r for r in log if r["idem_key"] == log[0]["idem_key"]]  # the posts of the first batch
times = [r["t"] for r in first]
assert first[-1]["outcome"] == "processed" and all(r["outcome"] == "500" for r in first[:-1])
assert len(times) == 5, f"expected 5 posts (4 failures, 1 success), got {len(times)}"
for n, (a, b) in enumerate(zip(times, times[1:]), start=1):
    step = 0.2 * 2 ** (n - 1)
    gap = b - a
    print(f"wait before attempt {n + 1}: {gap:.3f} s (backoff step {step:.1f} s)")
    assert step / 2 - 0.02 <= gap <= step + 0.25, f"wait {gap:.3f} s outside [{step / 2:.2f}, {step:.2f}] s"
PY
[ "$(q "$work/b.db" "select max(attempts) || ',' || min(attempts) from deliveries")" = 5,1 ] || fail "the attempts column does not say 5 for the retried batch, 1 for the others"
echo "deliver faults: all rows received, deduped to exactly once, backoff and Retry-After honoured"
