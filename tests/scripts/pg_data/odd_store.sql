-- A store of odd data, valid SQL for both SQLite and PostgreSQL (applied after `crm init`) by
-- tests/scripts/pg_differential.sh: nulls, 29 February, negative totals, unknown statuses,
-- future dates, unknown customers, quotes and SQL fragments in names, tags and column names.
INSERT INTO meta (key, value) VALUES ('timezone', 'Asia/Tokyo') ON CONFLICT (key) DO UPDATE SET value = excluded.value;
ALTER TABLE customers ADD COLUMN tier TEXT;
ALTER TABLE customers ADD COLUMN "x""; DROP TABLE orders; --" TEXT;
INSERT INTO customers (id, name, email, birthday, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in, referred_by, tier) VALUES
 (1, 'Ann', 'a@example.com', '2000-02-29', '2024-02-29 23:30:00', true, false, NULL, true, false, NULL, 'gold'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, NULL),
 (3, 'O''Brien''); DROP TABLE customers; --', 'o@example.com', '1999-12-31', '2030-01-01 00:00:00', true, true, true, true, true, 99, 'x'' OR 1=1'),
 (4, 'Dee', 'd@example.com', '1988-11-05', '2026-10-01 08:00:00', true, NULL, NULL, NULL, NULL, NULL, 'silver');
INSERT INTO products (id, sku, name, category, price) VALUES (1, 'SKU-1', 'Tea', 'drink', 12.5), (2, 'SKU''2', 'Mug', 'ware', 8), (3, NULL, 'Ghost', NULL, 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-11-01 10:00:00', 120.5, 'paid'),
 (2, 1, '2026-11-02 10:00:00', -30, 'refunded'),
 (3, 1, '2027-01-01 00:00:00', 50, 'paid'),
 (4, 2, NULL, 10, 'paid'),
 (5, 3, '2024-02-29 12:00:00', 99.99, 'weird'),
 (6, 77, '2026-11-03 09:00:00', 10, 'paid'),
 (7, 3, '2026-11-10 08:00:00', 0, NULL),
 (8, 2, '2026-11-20 23:59:59', 1000000, 'PAID'),
 (9, 4, '2026-11-05 12:00:00', 45.25, 'paid'),
 (10, 4, '2026-11-06 12:00:00', 45.25, 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 2, 12.5), (1, 2, 1, 8), (5, 3, 1, 1), (9, 2, 3, 8), (99, 1, 1, 1), (9, 42, 1, 1);
INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles, cancelled_at, cancel_reason) VALUES
 (1, 1, 1, '2026-01-31 00:00:00', 'active', 10, NULL, NULL),
 (2, 3, 1, '2025-02-28 00:00:00', 'cancelled', NULL, '2026-11-01 00:00:00', 'too_expensive'),
 (3, 88, 1, '2026-01-01 00:00:00', 'active', 1, NULL, NULL);
INSERT INTO surveys (customer_id, answered_at, satisfaction) VALUES (1, '2026-11-03 10:00:00', 2), (3, '2026-11-04 10:00:00', 7), (4, NULL, 5), (4, '2026-11-07 10:00:00', 5);
INSERT INTO referrals (referrer_id, referee_id, created_at) VALUES (1, 2, '2026-11-02 00:00:00'), (1, 4, NULL), (66, 1, NULL);
INSERT INTO events (id, customer_id, type, at, payload) VALUES
 (1, 1, 'cancel_request', '2026-11-08 09:00:00', '{"reason": "too_expensive"}'),
 (2, 3, 'signup', '2026-11-09 09:00:00', NULL),
 (3, 4, NULL, '2026-11-09 09:00:00', NULL),
 (4, 99, 'signup', '2026-11-09 09:00:00', NULL);
INSERT INTO tags (customer_id, tag, set_at) VALUES (1, 'vip', '2026-01-01'), (3, 'x''; DELETE FROM outbox; --', NULL), (55, 'ghost', NULL), (4, 'vip', '2026-11-01');
