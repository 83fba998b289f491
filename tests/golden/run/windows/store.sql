INSERT INTO customers (id, name, created_at) VALUES (1, 'edge', '2025-01-01'), (2, 'refund', '2025-01-01'),
 (3, 'marked', '2025-01-01'), (4, 'cancelled', '2025-01-01'), (5, 'shopper', '2025-01-01');
INSERT INTO products (id, sku, name, category) VALUES (1, 'RUN-42', 'runner', 'shoes'), (2, 'SOCK', 'socks', 'apparel'),
 (3, 'GIFT', 'gift card', NULL);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 -- 1: one paid order on 01-04: 6, 7 and 8 days (DAYS-1, DAYS, DAYS+1 for DAYS = 7) before 01-10, 01-11, 01-12
 (1, 1, '2026-01-04T23:30:00Z', 50, 'paid'),
 -- 2: paid 100 on 01-05, 40 of it refunded on 01-11 (a refund row): in the window until 01-11, then only the refund
 (2, 2, '2026-01-05T10:00:00Z', 100, 'paid'), (3, 2, '2026-01-11T09:00:00Z', -40, 'refunded'),
 -- 3: an order marked refunded, 4: a cancelled one: neither is a purchase
 (4, 3, '2026-01-09T10:00:00Z', 80, 'refunded'), (5, 4, '2026-01-09T10:00:00Z', 80, 'cancelled'),
 -- 5: shoes on 01-10 (today's order on 01-10), a gift card (no category) on 01-11, socks in a cancelled order
 (6, 5, '2026-01-10T08:00:00Z', 120, 'paid'), (7, 5, '2026-01-11T08:00:00Z', 20, 'paid'),
 (8, 5, '2026-01-11T09:00:00Z', 10, 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (6, 1, 1, 120), (7, 3, 1, 20), (8, 2, 1, 10),
 (1, 2, 2, 25);
