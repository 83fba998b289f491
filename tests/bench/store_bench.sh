#!/usr/bin/env bash
# Store-scale benchmark (not a ctest test; see tests/bench/README.md): a 1M-customer / ~10M-order
# sample store, cached under build/bench/, and one day's run of the 20-rule playbook over it,
# dry and real, REPS times each, with load / attributes / rules timings, throughput and memory.
#
# Usage: tests/bench/store_bench.sh            (from the repository root)
# Environment: CRM (default build/engine/crm), CUSTOMERS (1000000), ORDERS_PER_CUSTOMER (10),
#              REPS (3), DATE (2026-11-24), BENCH_DIR (build/bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM="${CRM:-$ROOT/build/engine/crm}"
CUSTOMERS="${CUSTOMERS:-1000000}"
OPC="${ORDERS_PER_CUSTOMER:-10}"
REPS="${REPS:-3}"
DATE="${DATE:-2026-11-24}"
BENCH_DIR="${BENCH_DIR:-$ROOT/build/bench}"
PLAYBOOK="$ROOT/tests/bench/playbook20.crm"
STORE="$BENCH_DIR/shop-$CUSTOMERS-$OPC-seed1-$DATE.db"
WORK="$BENCH_DIR/work.db"

[[ -x "$CRM" ]] || { echo "store_bench: no crm executable at $CRM (build it, or set CRM)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"

# /usr/bin/time -v gives wall time and peak RSS of the whole process; without it, the --stats
# line's own peak is all we have.
TIMEV=()
[[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -v)

# ---------------------------------------------------------------- the store (cached)
gen_s="cached"
if [[ ! -f "$STORE" ]]; then
  echo "generating $STORE (this takes a few minutes) ..." >&2
  rm -f "$STORE.tmp" "$STORE.tmp-journal"
  t0=$(date +%s.%N)
  "$CRM" sample --db "$STORE.tmp" --customers "$CUSTOMERS" --orders-per-customer "$OPC" --seed 1 --as-of "$DATE"
  t1=$(date +%s.%N)
  gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')
  mv "$STORE.tmp" "$STORE"
fi
orders=$(sqlite3 "$STORE" "SELECT count(*) FROM orders" 2>/dev/null || echo "?")
size_mb=$(awk -v b="$(stat -c %s "$STORE")" 'BEGIN { printf "%.0f", b / 1048576 }')

# ---------------------------------------------------------------- one measured run
# Prints: load_ms attrs_ms rules_ms evals_per_s run_ms stats_peak_mib wall_s cpu_s rss_mib
# (cpu s = user + system time of the process: on a busy shared machine wall times stretch, and
# cpu s is what a quiet machine's wall time would be, the run being single-threaded)
measure() {
  local log="$BENCH_DIR/run.log" err="$BENCH_DIR/run.err"
  "${TIMEV[@]}" "$CRM" run "$PLAYBOOK" --db "$@" --date "$DATE" --stats >"$log" 2>"$err" ||
    { echo "store_bench: crm run failed:" >&2; cat "$err" >&2; exit 1; }
  local stats
  stats=$(grep '^stats: store load' "$err")
  # stats: store load L ms; 1 day(s): attributes A ms, rules R ms (E M customer-rule evaluations/s);
  #        total run T ms; peak memory P MiB
  local load attrs rules evals total peak
  load=$(sed -E 's/.*store load ([0-9.]+) ms.*/\1/' <<<"$stats")
  attrs=$(sed -E 's/.*attributes ([0-9.]+) ms.*/\1/' <<<"$stats")
  rules=$(sed -E 's/.*rules ([0-9.]+) ms.*/\1/' <<<"$stats")
  evals=$(sed -E 's/.*\(([0-9.]+ [kM]?) ?customer-rule.*/\1/' <<<"$stats")
  total=$(sed -E 's/.*total run ([0-9.]+) ms.*/\1/' <<<"$stats")
  peak=$(sed -E 's/.*peak memory ([0-9.]+) MiB.*/\1/' <<<"$stats")
  local wall="-" rss="-" cpu="-"
  if ((${#TIMEV[@]})); then
    cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$err")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; printf "%.2f", s }' "$err")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$err")
  fi
  printf '%8s %8s %8s %10s %9s %9s %8s %8s %8s\n' "$load" "$attrs" "$rules" "${evals// /}" "$total" "$peak" "$wall" "$cpu" "$rss"
}

header() {
  printf '%-16s %8s %8s %8s %10s %9s %9s %8s %8s %8s\n' "$1" "load ms" "attr ms" "rules ms" "evals/s" "run ms" "peak MiB" "wall s" "cpu s" "RSS MiB"
}

echo "store: $STORE"
echo "  customers $CUSTOMERS, orders $orders, file ${size_mb} MiB, generation $gen_s"
echo "playbook: $PLAYBOOK ($(grep -c '^rule ' "$PLAYBOOK") rules), date $DATE, crm $CRM"
echo "  (run ms = the day's evaluation after loading; wall s and cpu s = the whole process, load included)"
echo "  machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# The bare read: every column the load needs, scanned through the SQLite C API and nothing else
# (crm-bare-read, built beside crm). The dry run is quoted as a ratio of it.
BARE="${BARE:-$(dirname "$CRM")/../tests/bench/crm-bare-read}"
bare_ms=""
if [[ -x "$BARE" ]]; then
  echo
  "$BARE" "$STORE" "$REPS" | tee "$BENCH_DIR/bare.log"
  bare_ms=$(sed -nE 's/^bare read: best ([0-9.]+) ms.*/\1/p' "$BENCH_DIR/bare.log")
fi
echo
header "dry run"
best_dry=""
for ((i = 1; i <= REPS; ++i)); do
  printf '%-16s ' "  #$i"
  line=$(measure "$STORE" --dry-run)
  echo "$line"
  w=$(awk '{ print $7 }' <<<"$line")
  [[ "$w" != "-" ]] && { [[ -z "$best_dry" ]] || awk -v a="$w" -v b="$best_dry" 'BEGIN { exit !(a < b) }'; } && best_dry="$w"
done
if [[ -n "$bare_ms" && -n "$best_dry" ]]; then
  awk -v w="$best_dry" -v b="$bare_ms" 'BEGIN { printf "ratio: the whole dry run (best %.2f s) / the bare read (best %.2f s) = %.2fx\n", w, b / 1000, w * 1000 / b }'
fi
echo
header "real run (copy)"
for ((i = 1; i <= REPS; ++i)); do
  cp "$STORE" "$WORK"  # a fresh copy each time: the outbox starts empty, so every run writes
  printf '%-16s ' "  #$i"
  measure "$WORK"
  [[ $i == 1 ]] && written=$(sqlite3 "$WORK" "SELECT count(*) FROM outbox" 2>/dev/null || echo "?")
done
rm -f "$WORK" "$WORK-journal" "$WORK-wal" "$WORK-shm"
echo
echo "outbox rows written by a real run: $written"
