#!/usr/bin/env bash
# `import "std/NAME"` works from an installed crm: install into a temporary prefix, mark the
# installed copy of std/lifecycle, and check a script that needs the mark (the source tree's
# copy lacks it, so only the installed path can satisfy it).  usage: install_stdlib.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
build=$(cd "$(dirname "$crm")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/crm" || { echo "FAIL: crm not installed"; exit 1; }
lib="$work/prefix/share/crm/stdlib/lifecycle.crm"
test -f "$lib" || { echo "FAIL: std/lifecycle not installed at $lib"; exit 1; }
# Every module of stdlib/ is installed, its tests are not.
for m in "$root"/stdlib/*.crm; do
  name=$(basename "$m")
  case "$name" in
    *_test.crm) test ! -e "$work/prefix/share/crm/stdlib/$name" || { echo "FAIL: test file $name installed"; exit 1; } ;;
    *) test -f "$work/prefix/share/crm/stdlib/$name" || { echo "FAIL: std/${name%.crm} not installed"; exit 1; } ;;
  esac
done
echo 'segment installed_marker = purchase_count >= 0' >> "$lib"
mkdir "$work/elsewhere"
cat > "$work/elsewhere/uses_std.crm" <<'CRM'
import "std/lifecycle"
message hello via email
rule r: when installed_marker and loyal then send hello
CRM
cd "$work/elsewhere"
env -u CRM_STDLIB "$work/prefix/bin/crm" check uses_std.crm
# and the source tree's stdlib is found by the build tree's binary
cat > plain.crm <<'CRM'
import "std/lifecycle"
message hello via email
rule r: when loyal then send hello
CRM
env -u CRM_STDLIB "$crm" check plain.crm
echo "std imports resolve from the installed prefix and from the source tree"
