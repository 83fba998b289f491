INSERT INTO customers (id, name, email, email_opt_in, line_opt_in) VALUES
  (1, '佐藤 花子', 'hanako@example.jp', 1, 1),
  (2, 'Bob "B" Smith', 'bob@example.com', 0, 1),
  (3, 'Carol', NULL, 'yes', NULL);
INSERT INTO outbox (id, run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at) VALUES
  (1, '2026-11-24', 1, 'thanks', 'send', 'order_thanks', 'email', '{"dedupe":"once","subject":"ありがとう","transactional":true}', 'thanks|1|once|0', '2026-11-24T01:00:00Z'),
  (2, '2026-11-24', 2, 'thanks', 'send', 'order_thanks', 'email', '{"dedupe":"once","transactional":true}', 'thanks|2|once|0', '2026-11-24T01:00:00Z'),
  (3, '2026-11-24', 2, 'news', 'send', 'newsletter', 'email', '{"dedupe":"once"}', 'news|2|once|0', '2026-11-24T01:00:00Z'),
  (4, '2026-11-24', 3, 'news', 'send', 'newsletter', 'email', '{"dedupe":"once"}', 'news|3|once|0', '2026-11-24T01:00:00Z'),
  (5, '2026-11-24', 3, 'tips', 'send', 'tips', 'line', '{"dedupe":"once"}', 'tips|3|once|0', '2026-11-24T01:00:00Z'),
  (6, '2026-11-24', 1, 'vip', 'points', '300', NULL, '{"dedupe":"2026"}', 'vip|1|2026|1', '2026-11-24T01:00:00Z');
