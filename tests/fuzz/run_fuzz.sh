#!/usr/bin/env bash
# Runs the parser+checker fuzzer: first every saved regression input once, then a bounded
# fuzzing session from the seed corpus (copied, so the source tree is never written).
# usage: run_fuzz.sh FUZZER SECONDS CORPUS_DIR REGRESSIONS_DIR
set -euo pipefail
fuzzer="$1"; secs="$2"; corpus="$3"; regressions="$4"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
if compgen -G "$regressions/*" >/dev/null; then
  echo "== replaying $(ls "$regressions" | wc -l) regression inputs"
  "$fuzzer" -rss_limit_mb=2048 -timeout=10 "$regressions"/* 2>&1 | tail -3
fi
mkdir corpus
cp "$corpus"/* corpus/ 2>/dev/null || true
echo "== fuzzing for ${secs}s"
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=4096 -print_final_stats=1 corpus 2>&1 | tail -15
echo "== fuzzing found nothing"
