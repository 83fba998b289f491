INSERT INTO customers (id, name, email, birthday, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in) VALUES
 (1, 'Aiko', 'aiko@example.com', '1990-10-03', '2025-01-10', 1, 1, 0, 0, 1),
 (2, 'Ben', 'ben@example.com', NULL, '2025-06-01', 0, 1, 0, 0, 0),
 (3, 'Chie', 'chie@example.com', '1985-12-01', '2025-08-01', 1, 0, 0, 0, 1),
 (4, 'Dan', 'dan@example.com', NULL, '2026-10-02', 1, 1, 0, 0, 1),
 (5, 'Emi', 'emi@example.com', NULL, '2025-03-01', 1, 1, 1, 1, 1);
INSERT INTO products (id, sku, name, category, price) VALUES (1, 'SET-1', 'Trial set', 'trial', 1980);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2025-11-20T10:00:00Z', 10000, 'paid'),
 (2, 1, '2026-01-05T10:00:00Z', 4000, 'paid'),
 (3, 2, '2026-06-25T10:00:00Z', 5000, 'paid'),
 (4, 2, '2026-07-26T10:00:00Z', 7000, 'cancelled'),
 (5, 3, '2026-09-28T10:00:00Z', 3000, 'paid'),
 (6, 3, '2026-10-03T10:00:00Z', 2500, 'paid'),
 (7, 5, '2025-11-02T10:00:00Z', 8000, 'paid'),
 (8, 4, '2026-10-04T10:00:00Z', 1980, 'paid'),
 (9, 1, '2026-12-01T10:00:00Z', 9999, 'paid');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 1, 10000), (2, 1, 1, 4000), (3, 1, 1, 5000),
 (4, 1, 1, 7000), (5, 1, 1, 3000), (6, 1, 1, 2500), (7, 1, 1, 8000), (8, 1, 1, 1980), (9, 1, 1, 9999);
INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles, cancelled_at, cancel_reason) VALUES
 (1, 1, 1, '2026-01-05', 'active', 9, NULL, NULL),
 (2, 2, 1, '2026-06-25', 'cancelled', 2, '2026-08-30', '高すぎる'),
 (3, 5, 1, '2025-11-02', 'cancelled', 3, '2026-10-03', '<b>too much</b> stock'),
 (4, 3, 1, '2026-09-28', 'cancelled', 0, '2026-12-15', 'no_effect');
