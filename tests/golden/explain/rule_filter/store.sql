INSERT INTO customers (id, name, email, birthday, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in) VALUES
 (1, 'Aiko', 'aiko@example.com', '2000-02-29', '2025-01-10', 1, 1, 0, 0, 1),
 (2, 'Ben', 'ben@example.com', NULL, '2025-06-01', 0, 1, 0, 0, 0),
 (3, 'Chie', 'chie@example.com', '1990-03-01', '2025-08-01', 1, 0, 0, 0, 0),
 (4, 'Dan', 'dan@example.com', NULL, '2026-03-03', NULL, 1, 0, 0, 0);
INSERT INTO products (id, sku, name, category, price) VALUES (1, 'SET-1', 'Trial set', 'trial', 1980);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-02-20T10:00:00Z', 10000, 'paid'),
 (2, 2, '2026-02-25T10:00:00Z', 5000, 'paid'),
 (3, 2, '2026-02-26T10:00:00Z', 7000, 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 1, 10000), (2, 1, 1, 5000), (3, 1, 1, 7000);
INSERT INTO surveys (customer_id, answered_at, satisfaction) VALUES (1, '2026-02-21', 5), (3, '2026-01-05', 2);
