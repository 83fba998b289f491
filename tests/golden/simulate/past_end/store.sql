INSERT INTO customers (id, name, created_at) VALUES (1, 'A', '2025-01-01');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES (1, 1, '2026-01-10T10:00:00Z', 30, 'paid');
