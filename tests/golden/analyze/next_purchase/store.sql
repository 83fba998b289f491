INSERT INTO products (id, sku, name, category, price) VALUES
  (1, 'CLEANSER', 'Foam cleanser', 'wash', 1800), (2, 'LOTION', 'Lotion', 'care', 2800), (3, 'SERUM', 'Serum', 'care', 5200);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
  (1, 1, '2024-01-01T10:00:00', 1800, 'paid'), (2, 1, '2024-01-03T10:00:00', 2800, 'paid'), (3, 1, '2024-01-25T10:00:00', 5200, 'paid'),
  (4, 2, '2024-01-01T10:00:00', 1800, 'paid'), (5, 2, '2024-01-04T10:00:00', 2800, 'paid'), (6, 2, '2024-01-04T19:00:00', 5200, 'paid'),
  (7, 2, '2024-07-22T10:00:00', 1800, 'paid'), (8, 3, '2024-01-01T10:00:00', 1800, 'refunded'), (9, 3, '2024-01-02T10:00:00', 2800, 'paid'),
  (10, 3, '2024-02-10T10:00:00', 2800, 'paid');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES
  (1, 1, 1, 1800), (2, 2, 1, 2800), (3, 3, 1, 5200), (4, 1, 1, 1800), (5, 2, 1, 2800), (6, 3, 1, 5200), (7, 1, 1, 1800),
  (8, 1, 1, 1800), (9, 2, 1, 2800), (10, 2, 1, 2800);
