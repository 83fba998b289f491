INSERT INTO customers (id, created_at) VALUES (1, '2024-01-01');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (1, 1, '2024-01-01T10:00:00', 30, 'paid'), (2, 1, '2024-02-01T10:00:00', 25, 'paid'), (3, 1, '2024-03-01T10:00:00', 20, 'paid');
