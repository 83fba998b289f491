-- 1 buys once; 2 buys twice (the first instance exits on the second order, a new one starts);
-- 3 has no email opt-in (its sends are blocked); 4 has the tag no_tips; 5's order is too small.
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES
 (1, 'Aiko', 'a@example.com', '2025-01-01', 1),
 (2, 'Ben', 'b@example.com', '2025-01-01', 1),
 (3, 'Chie', 'c@example.com', '2025-01-01', 0),
 (4, 'Dan', 'd@example.com', '2025-01-01', 1),
 (5, 'Emi', 'e@example.com', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (11, 1, '2026-03-01T10:00:00Z', 5000, 'paid'),
 (21, 2, '2026-03-02T10:00:00Z', 5000, 'paid'),
 (22, 2, '2026-03-20T10:00:00Z', 3000, 'paid'),
 (31, 3, '2026-03-01T10:00:00Z', 5000, 'paid'),
 (41, 4, '2026-03-01T10:00:00Z', 5000, 'paid'),
 (51, 5, '2026-03-01T10:00:00Z', 500, 'paid');
INSERT INTO tags (customer_id, tag, set_at) VALUES (4, 'no_tips', '2026-01-01');
