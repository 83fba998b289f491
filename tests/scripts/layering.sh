#!/usr/bin/env bash
# The folders are the pipeline: a layer includes only itself and the layers below it. This test
# lists every project #include of lang/ and engine/ and fails on one that reaches upward.
# usage: layering.sh CRM PROJECT_DIR
set -euo pipefail
root="$2"; cd "$root"
# folder -> the folders its files may include (besides themselves)
declare -A allowed=(
  [lang]=""
  [engine/lifetime]="lang"
  [engine/store]="lang engine/lifetime"
  [engine/frame]="lang engine/lifetime engine/store"
  [engine/graph]="lang"
  [engine/eval]="lang engine/lifetime engine/store engine/frame engine/graph"
  [engine/run]="lang engine/store engine/frame engine/graph engine/eval"
  [engine/report]="lang engine/store engine/frame engine/graph engine/eval engine/run"
  [engine/import]="lang engine/store"
  [engine/import/csv]="lang engine/store engine/import"
  [engine/model]="lang engine/lifetime engine/store engine/frame engine/graph engine/eval engine/run engine/report engine/import"
  [engine/deliver]="lang engine/store engine/run"
  [engine/include/crm]=""
)
bad=0; checked=0
for dir in "${!allowed[@]}"; do
  for f in "$dir"/*.hpp "$dir"/*.cpp "$dir"/*.h; do
    [ -e "$f" ] || continue
    while IFS= read -r inc; do
      checked=$((checked + 1))
      target="${inc%/*}"
      [ "$target" = "$dir" ] && continue
      ok=0
      for a in ${allowed[$dir]}; do [ "$target" = "$a" ] && ok=1; done
      if [ $ok -eq 0 ]; then echo "FAIL: $f includes \"$inc\": $dir may include only: ${allowed[$dir]:-(itself)}"; bad=1; fi
    done < <(sed -n 's/^#include "\(\(lang\|engine\|stdlib\|examples\)\/[^"]*\)".*/\1/p' "$f")
  done
done
# Every engine folder with sources has a row above, so a new stage cannot skip this check.
for d in engine/*/; do
  d="${d%/}"
  case "$d" in engine/api|engine/cli|engine/include) continue ;; esac
  [ -n "${allowed[$d]+x}" ] || { echo "FAIL: $d has no row in tests/scripts/layering.sh"; bad=1; }
done
[ $checked -gt 50 ] || { echo "FAIL: only $checked includes found: is the layout gone?"; exit 1; }
[ $bad -eq 0 ] && echo "layering: $checked includes, none upward"
exit $bad
