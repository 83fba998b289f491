INSERT INTO customers (id, name, created_at) VALUES (1, 'full', '2025-01-01'), (2, 'partial', '2025-01-01'),
 (3, 'marked', '2025-01-01'), (4, 'none', '2025-01-01');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 -- 1: paid 100, refunded in full 16 minutes later (a refund row, as the Online Retail import stores it)
 (1, 1, '2026-01-10T10:00:00Z', 100, 'paid'), (2, 1, '2026-01-10T10:16:00Z', -100, 'refunded'),
 -- 2: paid 100 on 01-10, 30 refunded on 01-12
 (3, 2, '2026-01-10T10:00:00Z', 100, 'paid'), (4, 2, '2026-01-12T09:00:00Z', -30, 'refunded'),
 -- 3: the order itself marked refunded: never a purchase
 (5, 3, '2026-01-10T10:00:00Z', 100, 'refunded'),
 -- 4: paid 100.00 exactly
 (6, 4, '2026-01-11T23:59:00Z', 100.00, 'paid');
