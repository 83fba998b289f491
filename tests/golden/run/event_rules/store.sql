-- 1 buys a trial set twice (first purchase once); 2 signs up and asks to cancel (too expensive,
-- no LINE opt-in); 3 asks to cancel for another reason and answers a survey with score 1, then 4.
INSERT INTO customers (id, name, email, created_at, email_opt_in, line_opt_in) VALUES
 (1, 'Aiko', 'a@example.com', '2025-01-01', 1, 1),
 (2, 'Ben', 'b@example.com', '2026-03-01', 1, 0),
 (3, 'Chie', 'c@example.com', '2025-01-01', 1, 1);
INSERT INTO products (id, sku, name, category, price) VALUES (1, 'TRIAL-SET', 'Trial set', 'trial', 1980), (2, 'LOTION', 'Lotion', 'care', 6000);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (11, 1, '2026-03-01T10:00:00Z', 1980, 'paid'),
 (12, 1, '2026-03-02T10:00:00Z', 7980, 'paid'),
 (13, 3, '2026-03-02T10:00:00Z', 6000, 'cancelled');
INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (11, 1, 1, 1980), (12, 1, 1, 1980), (12, 2, 1, 6000), (13, 2, 1, 6000);
INSERT INTO events (id, customer_id, type, at, payload) VALUES
 (5, 2, 'cancel_request', '2026-03-01T12:00:00Z', '{"reason": "too_expensive"}'),
 (6, 3, 'cancel_request', '2026-03-02T12:00:00Z', '{"reason": "too_much_stock"}'),
 (7, 3, 'survey', '2026-03-02T13:00:00Z', '{"score": 1}'),
 (8, 3, 'survey', '2026-03-02T14:00:00Z', '{"score": 4.5}');
