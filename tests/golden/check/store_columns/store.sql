ALTER TABLE customers ADD COLUMN plan TEXT;
ALTER TABLE customers ADD COLUMN credit_limit INTEGER;
