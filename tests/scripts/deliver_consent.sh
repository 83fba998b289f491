#!/usr/bin/env bash
# Consent is checked again at delivery: a customer who opts out of a channel between `crm run`
# and `crm deliver` gets none of its marketing sends (they end as blocked_consent, never posted),
# while transactional messages still go out; other actions and channels are not affected.
# usage: deliver_consent.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d)
source "$root/tests/receiver/receiver_lib.sh"
trap 'stop_receivers; rm -rf "$work"' EXIT
cat > "$work/c.crm" <<'CRM'
message order_thanks via email subject "ご注文ありがとうございます、{name}様" transactional
message news via email subject "新商品のお知らせ"
message tips via line

rule thanks: when purchase_count >= 1 then send order_thanks
rule newsletter: when purchase_count >= 1 then send news
rule line_tips: when purchase_count >= 1 then send tips, grant coupon welcome_back
CRM
"$crm" sample --db "$work/s.db" --customers 400 --seed 11 --as-of 2026-11-24 >/dev/null
"$crm" run "$work/c.crm" --db "$work/s.db" --date 2026-11-24 >/dev/null
news=$(q "$work/s.db" "select count(*) from outbox where target = 'news'")
[ "$news" -gt 20 ] || fail "only $news newsletter rows"
q "$work/s.db" "select count(*) from outbox where target = 'order_thanks' and json_extract(payload, '$.transactional') = 1" |
  grep -qx "$(q "$work/s.db" "select count(*) from outbox where target = 'order_thanks'")" || fail "transactional sends are not marked in the payload"

# Between the run and the delivery: even customers opt out of email, every third one out of LINE
# (written as 'no', which the engine reads as false).
q "$work/s.db" "update customers set email_opt_in = 0 where id % 2 = 0; update customers set line_opt_in = 'no' where id % 3 = 0"
blocked_email=$(q "$work/s.db" "select count(*) from outbox where target = 'news' and customer_id % 2 = 0")
blocked_line=$(q "$work/s.db" "select count(*) from outbox where target = 'tips' and customer_id % 3 = 0")
blocked=$((blocked_email + blocked_line))
[ "$blocked_email" -gt 0 ] && [ "$blocked_line" -gt 0 ] || fail "nobody to block ($blocked_email, $blocked_line)"
total=$(q "$work/s.db" "select count(*) from outbox")

"$crm" deliver --db "$work/s.db" --webhook http://127.0.0.1:9/x --dry-run >"$work/dry" 2>"$work/dry.err"
grep -q "$((total - blocked)) row(s) would be posted, $blocked blocked by consent" "$work/dry.err" ||
  fail "the dry run does not report the blocked rows: $(cat "$work/dry.err")"

start_receiver r
"$crm" deliver --db "$work/s.db" --webhook "$url" --batch 7 >"$work/out"
cat "$work/out"
grep -q "$blocked blocked by consent" "$work/out" || fail "the summary does not count $blocked blocked rows"
q "$work/s.db" "select o.idem_key from outbox o join deliveries d on d.outbox_id = o.id where d.status = 'delivered' order by 1" >"$work/delivered"
sort "$work/r.keys" | diff - "$work/delivered" >/dev/null || fail "the receiver's keys differ from the rows marked delivered"
[ "$(wc -l <"$work/r.keys")" = $((total - blocked)) ] || fail "$(wc -l <"$work/r.keys") rows posted, expected $((total - blocked))"
# Not one opted-out marketing send reached the receiver; every transactional one did.
! grep -E '^newsletter\|[0-9]*[02468]\|' "$work/r.keys" || fail "a newsletter went to a customer who opted out of email"
[ "$(q "$work/s.db" "select count(*) from deliveries d join outbox o on o.id = d.outbox_id where d.status = 'blocked_consent'
     and ((o.target = 'news' and o.customer_id % 2 = 0) or (o.target = 'tips' and o.customer_id % 3 = 0))")" = "$blocked" ] ||
  fail "the blocked_consent rows are not exactly the opted-out sends"
[ "$(grep -c '^thanks|' "$work/r.keys")" = "$(q "$work/s.db" "select count(*) from outbox where target = 'order_thanks'")" ] ||
  fail "a transactional send was blocked"
[ "$(grep -c '^line_tips|.*|1$' "$work/r.keys")" = "$(q "$work/s.db" "select count(*) from outbox where target = 'welcome_back'")" ] ||
  fail "a coupon (no channel, no consent needed) was blocked"
# Blocked rows stay blocked: opting back in later does not send an old campaign.
q "$work/s.db" "update customers set email_opt_in = 1, line_opt_in = 1"
"$crm" deliver --db "$work/s.db" --webhook "$url" | grep -q "delivered 0 row(s)" || fail "blocked rows were posted after opting back in"
echo "deliver consent: $blocked opted-out sends blocked at delivery, transactional sends and coupons delivered"
