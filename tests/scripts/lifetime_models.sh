#!/usr/bin/env bash
# The lifetime-model attributes through the CLI (docs/lifetime.md): crm check --db warns
# W-no-model on a store without a fitted model; the backtest property: crm simulate on day D uses
# only a model fitted before D (as_of < D), while crm run on D may use one fitted on D; and the
# recommended SKUs reach the subject and the send payload.   usage: lifetime_models.sh CRM PROJECT_DIR
set -euo pipefail
crm="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

"$crm" init --db s.db >/dev/null
sqlite3 -bail s.db <<'SQL'
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES (1, 'Aiko', 'a@example.com', '2024-01-01', 1);
INSERT INTO products (id, sku) VALUES (1, 'SOAP'), (2, 'CREAM');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (1, 1, '2024-01-01T10:00:00', 1000, 'paid'), (2, 1, '2024-01-11T10:00:00', 1000, 'paid'),
  (3, 1, '2024-01-21T10:00:00', 1000, 'paid');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 1, 1000), (2, 2, 1, 1000), (3, 1, 1, 1000);
SQL
cat > gone.crm <<'EOF2'
message gone via email subject "{name}: {recommended}"
rule gone: when p_alive < 0.5 then send gone once
EOF2

# No model: the check warns, and p_alive is null (the rule never fires).
out=$("$crm" check gone.crm --db s.db 2>&1) || fail "check failed: $out"
grep -q "no fitted lifetime model" <<<"$out" || fail "no W-no-model warning: $out"
"$crm" check gone.crm 2>&1 | grep -q "no fitted lifetime model" && fail "W-no-model without --db"

# Model A (as_of 03-01) keeps the customer alive; model B (as_of 03-05) and C (2030) give up on them.
sqlite3 -bail s.db <<'SQL'
CREATE TABLE models (name TEXT NOT NULL, as_of TEXT NOT NULL, params TEXT NOT NULL, log_likelihood REAL, fitted_at TEXT NOT NULL);
INSERT INTO models VALUES
  ('bgnbd', '2024-03-01', '{"r":1,"alpha":10,"a":0.001,"b":5,"unit":"days"}', 0, '2024-03-01T00:00:00Z'),
  ('bgnbd', '2024-03-05', '{"r":1,"alpha":10,"a":100,"b":1,"unit":"days"}', 0, '2024-03-05T00:00:00Z'),
  ('bgnbd', '2030-01-01', '{"r":1,"alpha":10,"a":100,"b":1,"unit":"days"}', 0, '2030-01-01T00:00:00Z');
SQL
out=$("$crm" check gone.crm --db s.db 2>&1) || fail "check failed: $out"
grep -q "no fitted lifetime model" <<<"$out" && fail "W-no-model with a model: $out"

# crm run on 03-05 may use model B (fitted on facts up to 03-05): the rule fires.
run=$("$crm" run gone.crm --db s.db --date 2024-03-05 --dry-run --format jsonl)
grep -q '"target":"gone"' <<<"$run" || fail "run on 03-05 did not use model B: $run"
# ...not on 03-04 (model A).
run=$("$crm" run gone.crm --db s.db --date 2024-03-04 --dry-run --format jsonl)
[ -z "$run" ] || fail "run on 03-04 used a model fitted after it: $run"

# crm simulate over 03-02..03-05 must use model A every day (B's as_of is not before 03-05).
sim=$("$crm" simulate gone.crm --db s.db --from 2024-03-02 --to 2024-03-05 --format jsonl)
grep -q '"target":"gone"' <<<"$sim" && fail "simulate used a model fitted on or after the simulated day: $sim"
# ...and from 03-06 it may use B.
sim=$("$crm" simulate gone.crm --db s.db --from 2024-03-02 --to 2024-03-06 --format jsonl)
grep -q '"target":"gone"' <<<"$sim" || fail "simulate never used model B after its as_of: $sim"

# A real run writes the recommended SKUs into the subject and the payload (CREAM followed SOAP).
"$crm" run gone.crm --db s.db --date 2024-03-05 >/dev/null
payload=$(sqlite3 s.db "SELECT payload FROM outbox WHERE target = 'gone'")
grep -q '"subject":"Aiko: CREAM"' <<<"$payload" || fail "subject without the recommendation: $payload"
grep -q '"recommended":\["CREAM"\]' <<<"$payload" || fail "payload without the recommendation: $payload"
echo "lifetime_models: ok"
