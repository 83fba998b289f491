#!/usr/bin/env bash
# The HTML report as a person sees it: simulate a sample shop with --report, open the file in
# headless Chromium, check the rendered DOM (charts as SVG, their titles, tables) and save a
# screenshot under the build dir (report_chromium/) to look at.
# usage: report_chromium.sh PATH/TO/crm PROJECT_DIR      (needs the Debian package `chromium`)
set -euo pipefail
crm="$1"
root="$2"
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "chromium is not installed (apt-get install -y chromium; ./setup.sh test installs it)"

out="$(cd "$(dirname "$crm")/.." && pwd)/report_chromium"   # the build dir, next to engine/crm
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$crm" sample --db "$tmp/shop.db" --customers 2000 --as-of 2026-11-24 2>/dev/null
"$crm" simulate "$root/examples/campaigns/playbook.crm" --db "$tmp/shop.db" --from 2026-10-01 --to 2026-11-24 \
  --report "$out/report.html" >"$out/report.txt"
[ -s "$out/report.html" ] || fail "no report written"

# Self-contained: no script, no external resource (the only URL is the SVG namespace).
! grep -qi '<script' "$out/report.html" || fail "the report contains a script"
urls=$(grep -oE '(https?:)?//[A-Za-z0-9.-]+' "$out/report.html" | sort -u | grep -v '^http://www.w3.org$' || true)
[ -z "$urls" ] || fail "the report refers to the network: $urls"

chrome() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$tmp")" "$@" 2>>"$out/chromium.log"
}
chrome --window-size=1280,2000 --dump-dom "file://$out/report.html" >"$out/dom.html" || fail "chromium --dump-dom failed (see $out/chromium.log)"
chrome --screenshot="$out/screenshot.png" --window-size=1280,2000 "file://$out/report.html" >/dev/null ||
  fail "chromium --screenshot failed (see $out/chromium.log)"

# The rendered DOM: the charts are SVG with their titles, the tables are there.
svgs=$(grep -o '<svg' "$out/dom.html" | wc -l)
[ "$svgs" -ge 6 ] || fail "expected at least 6 SVG charts in the DOM, found $svgs"
for title in "Daily volume: actions passed per day, sends stacked by channel" \
             "Second-purchase rate (F2) by cohort" "12-month repeat rate by cohort" \
             "Revenue per customer over 12 months by cohort" \
             "Subscription retention curve: share still active N months after the start" "Cancellation reasons"; do
  grep -qF "<title>$title</title>" "$out/dom.html" || fail "chart '$title' missing from the DOM"
done
bars=$(grep -o '<rect ' "$out/dom.html" | wc -l)
[ "$bars" -ge 100 ] || fail "only $bars bars drawn"
for id in volume rules cost busiest kpis retention subscriptions; do
  grep -q "id=\"$id\"" "$out/dom.html" || fail "section #$id missing"
done
grep -q 'step_mails.aftercare.day_0' "$out/dom.html" || fail "the rules table lacks step_mails.aftercare.day_0"
grep -q 'winback.dormant_90' "$out/dom.html" || fail "the rules table lacks winback.dormant_90"

# The screenshot: a PNG of 1280x2000 with real content (a blank page compresses to ~12 KB).
[ "$(head -c 8 "$out/screenshot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
size=$(od -An -tu1 -j16 -N8 "$out/screenshot.png" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
[ "$size" = 1280x2000 ] || fail "screenshot size $size"
bytes=$(wc -c <"$out/screenshot.png")
[ "$bytes" -gt 60000 ] || fail "the screenshot looks blank ($bytes bytes)"
echo "report ok: $svgs charts, $bars bars; screenshot $out/screenshot.png ($bytes bytes)"
