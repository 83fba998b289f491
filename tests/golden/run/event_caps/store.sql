-- 1 orders twice on 2026-03-02 (one big order); 2 orders once; 3 never orders.
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES
 (1, 'Aiko', 'a@example.com', '2025-01-01', 1),
 (2, 'Ben', 'b@example.com', '2025-01-01', 1),
 (3, 'Chie', 'c@example.com', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (11, 1, '2026-03-02T10:00:00Z', 1000, 'paid'),
 (12, 1, '2026-03-02T15:00:00Z', 9000, 'paid'),
 (21, 2, '2026-03-02T10:00:00Z', 1000, 'paid');
