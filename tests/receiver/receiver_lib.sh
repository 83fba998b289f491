# Shared by the deliver tests (tests/scripts/deliver_*.sh), sourced, not run: a small store with
# an outbox (crm sample + crm run), and the webhook receiver of examples/deliver/ started on a
# free port of 127.0.0.1 in the background, stopped when the test exits.
# Needs: $crm, $root, $work set by the test.

receiver_pids=()
stop_receivers() {
  for p in "${receiver_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  receiver_pids=()
}

# start_receiver NAME [receiver options...]: files $work/NAME.{port,keys,log}; sets $port and $url.
start_receiver() {
  local name="$1"; shift
  rm -f "$work/$name.port"
  python3 "$root/examples/deliver/webhook_receiver.py" --port 0 --port-file "$work/$name.port" \
    --processed "$work/$name.keys" --log "$work/$name.log" --lifetime 300 "$@" &
  receiver_pids+=($!)
  # Up to 30 s: python3 starts slowly on a loaded 2-core machine (a 5 s wait failed once there).
  for _ in $(seq 600); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  [ -s "$work/$name.port" ] || { echo "FAIL: the receiver $name did not start"; exit 1; }
  port=$(cat "$work/$name.port")
  url="http://127.0.0.1:$port/hook"
}

# make_store FILE [CUSTOMERS]: a sample shop and a real run of the playbook over 24 days.
make_store() {
  "$crm" sample --db "$1" --customers "${2:-300}" --seed 7 --as-of 2026-11-24 >/dev/null
  "$crm" run "$root/examples/campaigns/playbook.crm" --db "$1" --from 2026-11-01 --to 2026-11-24 >/dev/null
}

# A busy timeout: a crm process (or another query of a pipeline) may hold the store a moment.
q() { sqlite3 -cmd ".timeout 5000" "$1" "$2"; }
fail() { echo "FAIL: $*"; exit 1; }
