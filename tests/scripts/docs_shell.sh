#!/usr/bin/env bash
# Every ```sh block of README.md and docs/*.md runs, so that no command in the documentation
# goes stale. Each document's blocks run in order, as one bash script (set -e: any failing
# command fails the test), in a fresh folder where `crm` is on the PATH and build/engine/crm,
# examples/ and stdlib/ point into the project. A ```crm block preceded by a line
# `<!-- file: NAME.crm -->` is written to NAME.crm first, at its place in the document.
# usage: docs_shell.sh CRM PROJECT_DIR
set -euo pipefail
crm="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; root="$(cd "$2" && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
ln -s "$crm" "$work/bin/crm"
export PATH="$work/bin:$PATH" CRM_STDLIB="$root/stdlib" NO_COLOR=1
unset CRM_TODAY
docs=0; blocks=0
for doc in "$root"/README.md "$root"/docs/*.md; do
  base="$(basename "$doc" .md)"
  script="$work/$base.sh"
  k=$(awk '
    BEGIN { print "set -euo pipefail"; print "set -x" }
    /^<!-- file: [A-Za-z0-9_.-]+\.crm -->[[:space:]]*$/ { named = $3; next }
    /^```sh[[:space:]]*$/ { insh = 1; n++; next }
    /^```crm[[:space:]]*$/ && named != "" { incrm = 1; print "cat > " named " <<'"'"'CRM_DOC_EOF'"'"'"; named = ""; next }
    /^```/ && insh { insh = 0; next }
    /^```/ && incrm { incrm = 0; print "CRM_DOC_EOF"; next }
    insh || incrm { print; next }
    !/^[[:space:]]*$/ { named = "" }
    END { print "# blocks: " n + 0 > "/dev/stderr" }' "$doc" 2>&1 >"$script" | sed 's/# blocks: //')
  [ "$k" -gt 0 ] || continue
  docs=$((docs + 1)); blocks=$((blocks + k))
  dir="$work/run_$base"
  mkdir -p "$dir/build/engine"
  ln -s "$crm" "$dir/build/engine/crm"
  ln -s "$root/examples" "$dir/examples"
  ln -s "$root/stdlib" "$dir/stdlib"
  if ! (cd "$dir" && bash "$script") > "$work/$base.log" 2>&1; then
    echo "FAIL: a shell block of $(basename "$doc") failed; its output:"
    tail -n 60 "$work/$base.log"
    exit 1
  fi
done
[ "$blocks" -gt 0 ] || { echo "FAIL: no sh blocks found in the docs"; exit 1; }
echo "$blocks shell block(s) of $docs document(s) ran cleanly"
