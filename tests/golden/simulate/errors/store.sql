INSERT INTO customers (id, name, created_at, email_opt_in) VALUES (1, 'Aiko', '2025-01-10', 1);
