#!/usr/bin/env bash
# Lifetime-model benchmark (not a ctest test; see tests/bench/README.md): `crm fit` on the CDNOW
# master file (23,570 customers) and on the 1M-customer sample store, and P(alive) for every
# customer, via build/tests/bench/crm-fit-bench. Goals (issue 15): master well under 1 s,
# 1M customers under 10 s, P(alive) for 1M customers under 100 ms.
#
# Usage: tests/bench/fit_bench.sh            (from the repository root)
# Environment: CRM, FIT_BENCH (the executables), CUSTOMERS (1000000), BENCH_DIR (build/bench),
#              DATA (../shared/data, beside the clone).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM="${CRM:-$ROOT/build/engine/crm}"
FIT_BENCH="${FIT_BENCH:-$ROOT/build/tests/bench/crm-fit-bench}"
CUSTOMERS="${CUSTOMERS:-1000000}"
BENCH_DIR="${BENCH_DIR:-$ROOT/build/bench}"
DATA="${DATA:-$ROOT/../shared/data}"
DATE=2026-11-24
for x in "$CRM" "$FIT_BENCH"; do
  [[ -x "$x" ]] || { echo "fit_bench: no executable $x (build it first)" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
echo "fit_bench on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# CDNOW master: imported afresh (a second), then the models as the paper (weeks).
MASTER="$BENCH_DIR/cdnow-master.db"
rm -f "$MASTER"
"$CRM" import cdnow --db "$MASTER" "$DATA/cdnow/CDNOW_master.txt"
t0=$(date +%s.%N)
"$CRM" fit --db "$MASTER" --no-save --format json >/dev/null
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "crm fit on the CDNOW master file (process wall time): %.3f s\n", b - a }'
"$FIT_BENCH" "$MASTER" weeks

# The 1M-customer sample store (the same cache as store_bench.sh), in days.
STORE="$BENCH_DIR/shop-$CUSTOMERS-10-seed1-$DATE.db"
if [[ ! -f "$STORE" ]]; then
  echo "generating $STORE (a few minutes) ..." >&2
  "$CRM" sample --db "$STORE.tmp" --customers "$CUSTOMERS" --orders-per-customer 10 --seed 1 --as-of "$DATE"
  mv "$STORE.tmp" "$STORE"
fi
# All three models, as `crm fit` does by default (wall and CPU of the process: the likelihoods
# run on all cores, row_chunks.hpp), then the breakdown by model.
TIMEV=()
[[ -x /usr/bin/time ]] && TIMEV=(/usr/bin/time -f "  process: %e s wall, %U s user + %S s system, peak %M KB")
echo "crm fit (BG/NBD, Pareto/NBD, Gamma-Gamma) on the $CUSTOMERS-customer sample store:"
"${TIMEV[@]}" "$CRM" fit --db "$STORE" --no-save --unit days --format json >/dev/null
"$FIT_BENCH" "$STORE" days
# What the p_alive attribute adds to a day's run (frame from scratch and a FrameCursor step).
MODEL_COLUMN_BENCH="${MODEL_COLUMN_BENCH:-$ROOT/build/tests/bench/crm-model-column-bench}"
[[ -x "$MODEL_COLUMN_BENCH" ]] && "$MODEL_COLUMN_BENCH" "$STORE" "$DATE"
