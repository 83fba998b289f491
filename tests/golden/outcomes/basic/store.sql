ALTER TABLE orders ADD COLUMN coupon TEXT;
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES
 (1, 'A', 'a@example.com', '2025-01-01', 1), (2, 'B', 'b@example.com', '2025-01-01', 1),
 (3, 'C', 'c@example.com', '2025-01-01', 1), (4, 'D', 'd@example.com', '2025-01-01', 1),
 (5, 'E', 'e@example.com', '2025-01-01', 1), (6, 'F', 'f@example.com', '2025-01-01', 1),
 (7, 'G', 'g@example.com', '2025-01-01', 0), (8, 'H', 'h@example.com', '2025-01-01', 1);
-- Hash of "promo:<id>" at 50%: 1, 2, 3, 4, 5, 8 are held out; 6 and 7 treated (7 has no opt-in).
INSERT INTO orders (id, customer_id, ordered_at, total, status, coupon) VALUES
 (1, 1, '2026-01-10T10:00:00Z', 30, 'paid', NULL), (2, 2, '2026-01-10T10:00:00Z', 30, 'paid', NULL),
 (3, 3, '2026-01-10T10:00:00Z', 30, 'paid', NULL), (4, 4, '2026-01-10T10:00:00Z', 30, 'paid', NULL),
 (5, 5, '2026-01-10T10:00:00Z', 30, 'paid', NULL), (6, 6, '2026-01-10T10:00:00Z', 30, 'paid', NULL),
 (7, 7, '2026-01-10T10:00:00Z', 30, 'paid', NULL), (8, 8, '2026-01-10T10:00:00Z', 30, 'paid', NULL),
 (9, 5, '2025-12-01T10:00:00Z', 20, 'paid', NULL),
 -- customer 6 redeems the coupon 11 days after; 7 buys after the 30-day window
 (10, 6, '2026-02-10T10:00:00Z', 120.5, 'paid', 'back10'), (11, 7, '2026-03-05T10:00:00Z', 80, 'paid', NULL),
 -- held out: 1 buys (a second purchase), 2 buys on the action's day (not counted), 3 is refunded
 (12, 1, '2026-02-15T10:00:00Z', 50.25, 'paid', NULL), (13, 2, '2026-01-30T18:00:00Z', 40, 'paid', NULL),
 (14, 3, '2026-02-10T10:00:00Z', 60, 'refunded', NULL);
-- A real run sent customer 6 the mail on 2026-01-30.
INSERT INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at) VALUES
 ('2026-01-30', 6, 'promo.mail', 'send', 'promo_mail', 'email', '{}', 'promo.mail|6|once|0', '2026-01-30T00:00:00Z'),
 ('2026-01-30', 6, 'promo.mail', 'coupon', 'back10', NULL, '{}', 'promo.mail|6|once|1', '2026-01-30T00:00:00Z');
