# Sourced by tests/scripts/concurrent_runs.sh and concurrent_links.sh (not a test: it lives under
# lib/, which the tests/scripts/*.sh glob does not reach). Two real runs at once, then checks.
#
# run_pair CRM SCRIPT DB1 DB2 WORK -- RUN_ARGS...: starts `crm run SCRIPT --db DB1 RUN_ARGS` and
# the same with DB2 at once, waits for both, and fails (exit 1) when one failed without saying
# that another crm run holds the lock. Each run's output is WORK/1.out, WORK/1.err, WORK/2.*.
run_pair() {
  local crm="$1" script="$2" db1="$3" db2="$4" work="$5"
  shift 6  # the "--" too
  "$crm" run "$script" --db "$db1" "$@" >"$work/1.out" 2>"$work/1.err" &
  local p1=$!
  "$crm" run "$script" --db "$db2" "$@" >"$work/2.out" 2>"$work/2.err" &
  local p2=$!
  local s1=0 s2=0
  wait $p1 || s1=$?
  wait $p2 || s2=$?
  echo "exit codes: $s1 $s2"
  local i st
  for i in 1 2; do
    st=$([ $i = 1 ] && echo $s1 || echo $s2)
    if [ "$st" != 0 ] && ! grep -q "another crm run" "$work/$i.err"; then
      echo "FAIL: run $i failed without naming the lock:"; cat "$work/$i.err"; exit 1
    fi
  done
}

# same_outbox DB REF WHAT: fails unless DB's outbox holds the same actions (idempotency keys) as REF's.
same_outbox() {
  local a b
  a=$(sqlite3 "$1" "select idem_key from outbox order by 1" | md5sum)
  b=$(sqlite3 "$2" "select idem_key from outbox order by 1" | md5sum)
  [ "$a" = "$b" ] || { echo "FAIL: the outbox differs from $3"; exit 1; }
}
