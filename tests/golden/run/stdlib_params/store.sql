-- 11: a VIP only with the overridden threshold (60,000 spent); the first purchase's anniversary
--     is 2026-03-01: 500 points (overridden) instead of 2,000.
-- 12: spent 40,000 (no VIP); last bought 60 days before 2026-03-01: dormant only with the
--     overridden lifecycle_dormant_days (60 instead of 90), so std/retention's win-back fires.
INSERT INTO customers (id, name, email_opt_in, created_at) VALUES (11, 'VIP', 1, '2025-01-01'), (12, 'Quiet', 1, '2025-01-01');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (1, 11, '2025-03-01T10:00:00', 30000, 'paid'),
  (2, 11, '2026-02-20T10:00:00', 30000, 'paid'),
  (3, 12, '2025-12-31T10:00:00', 40000, 'paid');
