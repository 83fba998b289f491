INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES
 (1, 'Aiko', 'aiko@example.com', '2026-01-01', 1),
 (2, 'Ben', 'ben@example.com', '2026-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES (1, 2, '2026-03-02T09:00:00Z', 3000, 'paid');
