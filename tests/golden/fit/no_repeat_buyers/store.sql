INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (1, 1, '2024-01-01T10:00:00', 30, 'paid'), (2, 2, '2024-01-15T18:00:00', 25, 'paid'), (3, 3, '2024-02-01T09:00:00', 20, 'paid'),
  (4, 3, '2024-04-01T10:00:00', 20, 'paid'), (5, 1, '2024-02-01T10:00:00', 20, 'refunded');
