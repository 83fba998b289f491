INSERT INTO meta (key, value) VALUES ('currency', 'JPY');
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES (1, 'Aiko', 'a@example.com', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-01-01T10:00:00Z', 1000.43, 'paid'), (2, 1, '2026-01-02T10:00:00Z', 1790.4299999999997, 'paid');
