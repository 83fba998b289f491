#!/usr/bin/env bash
# Simulation benchmark (not a ctest test; see tests/bench/README.md): `crm simulate` of the 20-rule
# playbook over a year of days of the 1M-customer sample store, with the whole process's wall and
# CPU time and per-day figures that show a day's cost following that day's facts, not the history.
#
# Usage: tests/bench/simulate_bench.sh            (from the repository root)
# Environment: CRM (default build/engine/crm), STORE (a store to use; generated there when
#              missing), CUSTOMERS (1000000), ORDERS_PER_CUSTOMER (10), AS_OF (2026-11-24),
#              DAYS (365: the simulated range ends on AS_OF), BENCH_DIR (build/bench),
#              PLAYBOOK (tests/bench/playbook20.crm).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM="${CRM:-$ROOT/build/engine/crm}"
CUSTOMERS="${CUSTOMERS:-1000000}"
OPC="${ORDERS_PER_CUSTOMER:-10}"
AS_OF="${AS_OF:-2026-11-24}"
DAYS="${DAYS:-365}"
BENCH_DIR="${BENCH_DIR:-$ROOT/build/bench}"
PLAYBOOK="${PLAYBOOK:-$ROOT/tests/bench/playbook20.crm}"
STORE="${STORE:-$BENCH_DIR/shop-$CUSTOMERS-$OPC-seed1-$AS_OF.db}"  # the same cache as store_bench.sh
FROM=$(date -u -d "$AS_OF - $((DAYS - 1)) days" +%F)
TO="$AS_OF"

[[ -x "$CRM" ]] || { echo "simulate_bench: no crm executable at $CRM (build it, or set CRM)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"

# ---------------------------------------------------------------- the store (cached)
gen_s="reused"
if [[ ! -f "$STORE" ]]; then
  mkdir -p "$(dirname "$STORE")"
  echo "generating $STORE (this takes a few minutes) ..." >&2
  rm -f "$STORE.tmp" "$STORE.tmp-journal"
  t0=$(date +%s.%N)
  "$CRM" sample --db "$STORE.tmp" --customers "$CUSTOMERS" --orders-per-customer "$OPC" --seed 1 --as-of "$AS_OF"
  t1=$(date +%s.%N)
  gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "generated in %.1f s", b - a }')
  mv "$STORE.tmp" "$STORE"
fi

out="$BENCH_DIR/simulate.out" err="$BENCH_DIR/simulate.err" days="$BENCH_DIR/simulate-days.tsv"
TIMEV=()
[[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -v)

echo "store: $STORE ($gen_s)"
if command -v sqlite3 >/dev/null; then
  echo "  $(sqlite3 "$STORE" "SELECT count(*) FROM customers") customers, $(sqlite3 "$STORE" "SELECT count(*) FROM orders") orders;" \
    "orders dated before $FROM: $(sqlite3 "$STORE" "SELECT count(*) FROM orders WHERE substr(ordered_at, 1, 10) < '$FROM'")"
fi
echo "playbook: $PLAYBOOK ($(grep -c '^rule ' "$PLAYBOOK") rules); days $FROM .. $TO ($DAYS); crm $CRM"
echo "machine: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

"${TIMEV[@]}" "$CRM" simulate "$PLAYBOOK" --db "$STORE" --from "$FROM" --to "$TO" --stats --day-stats "$days" \
  >"$out" 2>"$err" || { echo "simulate_bench: crm simulate failed:" >&2; cat "$err" >&2; exit 1; }

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep '^stats:' "$err"
if ((${#TIMEV[@]})); then
  awk -F': ' '
    /User time/ { u = $2 } /System time/ { s = $2 }
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; ++i) w = w * 60 + p[i] }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "whole process: wall %.1f s, CPU %.1f s (user %.1f + system %.1f), peak RSS %.0f MiB\n", w, u + s, u, s, rss }' "$err"
fi
echo "  (on a busy shared machine wall time stretches with the load; CPU time is what a quiet"
echo "   machine's wall time would be: the days are single-threaded, the store load uses 2 threads)"
echo

# ---------------------------------------------------------------- per-day figures
# days.tsv: date facts recomputed_customers actions attributes_cpu_ms rules_cpu_ms
echo "per day (CPU ms; facts = orders, subscription starts/cancellations, surveys, referrals, tags and"
echo "sign-ups dated that day; recomputed = customers whose attributes were recomputed):"
awk -F'\t' 'NR == 2 { printf "  first day %s: computed from scratch, %d customers: attributes %.0f ms, rules %.0f ms (the backlog: %d actions)\n", $1, $3, $5, $6, $4 }' "$days"
awk -F'\t' 'NR > 2 { print }' "$days" | sort -t$'\t' -k2,2n >"$days.sorted"
n=$(wc -l <"$days.sorted")
if ((n >= 10)); then
  echo "  the 5 days with the fewest facts and the 5 with the most:"
  printf '    %-10s %7s %11s %8s %9s %9s\n' date facts recomputed actions "attr ms" "rules ms"
  { head -5 "$days.sorted"; tail -5 "$days.sorted"; } |
    awk -F'\t' '{ printf "    %-10s %7d %11d %8d %9.1f %9.1f\n", $1, $2, $3, $4, $5, $6 }'
  awk -F'\t' -v n="$n" '
    { f[NR] = $2; a[NR] = $5; r[NR] = $6 }
    END {
      q = int(n / 4)
      for (i = 1; i <= q; ++i) { lf += f[i]; la += a[i]; lr += r[i] }
      for (i = n - q + 1; i <= n; ++i) { hf += f[i]; ha += a[i]; hr += r[i] }
      printf "  quartile of days with the fewest facts: %.0f facts/day, attributes %.1f ms, rules %.1f ms\n", lf / q, la / q, lr / q
      printf "  quartile of days with the most facts:   %.0f facts/day, attributes %.1f ms, rules %.1f ms\n", hf / q, ha / q, hr / q
    }' "$days.sorted"
  # History grows through the year (a year of orders more before the last days than before the
  # first): a per-day recomputation would get slower; the incremental sweep does not.
  awk -F'\t' -v n="$n" '
    NR > 2 { ++k; f[k] = $2; a[k] = $5; r[k] = $6; t += $5 + $6 }
    END {
      m = k < 30 ? k : 30
      for (i = 1; i <= m; ++i) { ef += f[i]; ea += a[i]; er += r[i] }
      for (i = k - m + 1; i <= k; ++i) { lf += f[i]; la += a[i]; lr += r[i] }
      printf "  first %d days after the first: %.0f facts/day, attributes %.1f ms, rules %.1f ms\n", m, ef / m, ea / m, er / m
      printf "  last %d days (a year more history): %.0f facts/day, attributes %.1f ms, rules %.1f ms\n", m, lf / m, la / m, lr / m
      printf "  mean day after the first: %.1f ms CPU\n", t / k
    }' "$days"
fi
rm -f "$days.sorted"
echo
echo "per-day table: $days; simulate output: $out"
