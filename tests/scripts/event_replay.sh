#!/usr/bin/env bash
# Real time equals batch: the event rules of a day replayed by `crm run` give the same actions
# as the same events sent one by one through `crm event`, in a dry run and in the outbox; and
# a run after the real-time calls writes nothing new (each event is acted on once).
# usage: event_replay.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/events.crm" <<'EOF'
timezone "UTC"

message thanks via email subject "ありがとうございます、{name}様"
message welcome via email
message lighter_plan via line
message skip_delivery via line
message usage_guide via email

rule thanks: on purchase when true then send thanks
rule big_order: on purchase when order.total >= 5000 then grant points order.total / 100
rule first_thanks: on first_purchase when true then grant coupon welcome_back_10
rule welcome: on signup when true then send welcome
rule expensive: on cancel_request when event.reason == "too_expensive" then send lighter_plan, offer light_plan
rule stock: on cancel_request when event.reason == "too_much_stock" then send skip_delivery
rule no_effect: on cancel_request when event.reason == "no_effect" then send usage_guide
rule any_cancel: on cancel_request when event.type == "cancel_request" then tag asked_to_cancel
EOF
"$crm" sample --db "$work/base.db" --customers 3000 --seed 11 --as-of 2026-11-24 >/dev/null
q() { sqlite3 -separator $'\t' "$1" "$2"; }
# The two busiest days with cancel requests and the busiest order day: every kind of event.
days=$(q "$work/base.db" "select * from (select date(at) from events where type = 'cancel_request' group by 1
  order by count(*) desc, 1 limit 2) union select * from (select date(ordered_at) from orders group by 1
  order by count(*) desc, 1 limit 1)")
[ -n "$days" ] || { echo "FAIL: the sample store has no cancel requests"; exit 1; }
total=0
for day in $days; do

# The day's occurrences as crm event arguments: paid orders, sign-ups, events rows.
args() {
  q "$work/base.db" "select o.customer_id, 'purchase', o.id,
      json_object('order_id', o.id, 'total', o.total,
                  'skus', (select json_group_array(p.sku) from order_items i join products p on p.id = i.product_id
                           where i.order_id = o.id))
    from orders o where o.status = 'paid' and date(o.ordered_at) = '$day' order by o.ordered_at, o.id"
  q "$work/base.db" "select id, 'signup', 0, '{}' from customers where date(created_at) = '$day' order by id"
  q "$work/base.db" "select customer_id, type, id, coalesce(payload, '{}') from events
    where date(at) = '$day' and type not in ('purchase', 'first_purchase', 'signup') order by at, id"
}
args > "$work/occ.tsv"
n=$(wc -l < "$work/occ.tsv")
[ "$n" -gt 3 ] || { echo "FAIL: only $n occurrences on $day"; exit 1; }

# 1. Dry run: the same action lines.
"$crm" run "$work/events.crm" --db "$work/base.db" --date "$day" --dry-run --format jsonl | sort > "$work/batch.jsonl"
: > "$work/rt.jsonl"
while IFS=$'\t' read -r cust type id payload; do
  "$crm" event "$work/events.crm" 2>/dev/null --db "$work/base.db" --customer "$cust" --type "$type" --id "$id" \
    --payload "$payload" --date "$day" --dry-run --format jsonl >> "$work/rt.jsonl"
done < "$work/occ.tsv"
sort -o "$work/rt.jsonl" "$work/rt.jsonl"
[ -s "$work/batch.jsonl" ] || { echo "FAIL: the batch replay produced no action"; exit 1; }
grep -q '"rule":"any_cancel"' "$work/batch.jsonl" && cancels=1
diff -u "$work/batch.jsonl" "$work/rt.jsonl" || { echo "FAIL: batch and real time differ (dry run)"; exit 1; }

# 2. Real writes: the same outbox keys; a run after the real-time calls writes nothing new.
cp "$work/base.db" "$work/batch.db"; cp "$work/base.db" "$work/rt.db"
"$crm" run "$work/events.crm" --db "$work/batch.db" --date "$day" >/dev/null
while IFS=$'\t' read -r cust type id payload; do
  "$crm" event "$work/events.crm" 2>/dev/null --db "$work/rt.db" --customer "$cust" --type "$type" --id "$id" \
    --payload "$payload" --date "$day" >/dev/null
done < "$work/occ.tsv"
keys() { q "$1" "select idem_key, rule, action, target from outbox order by idem_key"; }
diff -u <(keys "$work/batch.db") <(keys "$work/rt.db") || { echo "FAIL: outbox keys differ"; exit 1; }
out=$("$crm" run "$work/events.crm" --db "$work/rt.db" --date "$day")
echo "$out" | grep -q "^0 new outbox row(s) written" || { echo "FAIL: the replay after real time wrote rows: $out"; exit 1; }
echo "$day: $n occurrences, $(wc -l < "$work/batch.jsonl") actions, batch == real time"
total=$((total + n))
done
[ "${cancels:-0}" = 1 ] || { echo "FAIL: no cancel_request rule fired"; exit 1; }
echo "event replay: $total occurrences, batch == real time"
