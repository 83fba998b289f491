// TEMPORARY: the SPEC §5 tables, until the store's own schema function (branch `store`) lands;
// then create_shop_schema calls it and this SQL goes away.
#pragma once
#include <SQLiteCpp/Database.h>

namespace crm::examples {

inline void create_shop_schema(SQLite::Database& db) {
  db.exec(R"sql(
CREATE TABLE IF NOT EXISTS customers(id INTEGER PRIMARY KEY, name TEXT, email TEXT, birthday DATE,
  created_at TIMESTAMP, email_opt_in BOOLEAN, line_opt_in BOOLEAN, sms_opt_in BOOLEAN,
  push_opt_in BOOLEAN, dm_opt_in BOOLEAN, referred_by INTEGER);
CREATE TABLE IF NOT EXISTS products(id INTEGER PRIMARY KEY, sku TEXT UNIQUE, name TEXT, category TEXT, price DECIMAL);
CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, customer_id INTEGER, ordered_at TIMESTAMP,
  total DECIMAL, status TEXT);
CREATE TABLE IF NOT EXISTS order_items(order_id INTEGER, product_id INTEGER, quantity INTEGER, price DECIMAL);
CREATE TABLE IF NOT EXISTS subscriptions(id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER,
  started_at TIMESTAMP, status TEXT, cycles INTEGER, cancelled_at TIMESTAMP, cancel_reason TEXT);
CREATE TABLE IF NOT EXISTS surveys(customer_id INTEGER, answered_at TIMESTAMP, satisfaction INTEGER);
CREATE TABLE IF NOT EXISTS referrals(referrer_id INTEGER, referee_id INTEGER, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, customer_id INTEGER, type TEXT, at TIMESTAMP, payload JSON);
CREATE TABLE IF NOT EXISTS tags(customer_id INTEGER, tag TEXT, set_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, run_date DATE, customer_id INTEGER, rule TEXT,
  action TEXT, target TEXT, channel TEXT, payload JSON, idem_key TEXT UNIQUE, created_at TIMESTAMP);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders(customer_id);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items(order_id);
)sql");
}

}  // namespace crm::examples
