// Unit tests of the parallel store load: reading orders and items on a second connection and
// thread gives exactly the Facts and warnings (same order) of the single-threaded load.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("store_par") {}
};

// Customers 1..400 (with an extra column), 6000 orders of which some are odd: unknown or
// non-integer customers, bad or missing ordered_at, bad totals, unknown statuses; items with
// unknown products, products without a sku, items of skipped or missing orders; tags and events.
const char* kOddStore = R"SQL(
ALTER TABLE customers ADD COLUMN tier TEXT;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
  INSERT INTO customers (id, name, email, created_at, email_opt_in, tier)
  SELECT i, 'c' || (i % 37), 'c' || i || '@x', '2025-0' || (1 + i % 9) || '-01', i % 2, 'T' || (i % 5) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
  INSERT INTO orders (id, customer_id, ordered_at, total, status)
  SELECT i,
         CASE WHEN i % 97 = 0 THEN 9000 + i WHEN i % 101 = 0 THEN (i % 400 + 1) || '.0'
              WHEN i % 103 = 0 THEN 'abc' WHEN i % 107 = 0 THEN (i % 400 + 1) * 1.0 ELSE i % 400 + 1 END,
         CASE WHEN i % 89 = 0 THEN NULL WHEN i % 83 = 0 THEN 'not a date'
              WHEN i % 2 = 0 THEN '2026-0' || (1 + i % 9) || '-1' || (i % 10) || 'T0' || (i % 10) || ':00:00+09:00'
              ELSE datetime(1760000000 + i * 3600, 'unixepoch') || 'Z' END,
         CASE WHEN i % 79 = 0 THEN 'lots' ELSE (i % 50) * 1.5 END,
         CASE WHEN i % 71 = 0 THEN 'Pending' WHEN i % 73 = 0 THEN NULL WHEN i % 7 = 0 THEN 'refunded' ELSE 'paid' END
  FROM n;
INSERT INTO products (id, sku, name, category, price) VALUES (1, 'A', 'a', 'x', 1), (2, 'B', 'b', 'x', 1),
  (3, NULL, 'c', 'x', 1), (4, 'D', 'd', 'y', 1);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 15000)
  INSERT INTO order_items (order_id, product_id, quantity, price)
  SELECT CASE WHEN i % 211 = 0 THEN 'x' WHEN i % 223 = 0 THEN 99999 ELSE i % 6000 + 1 END,
         CASE WHEN i % 61 = 0 THEN 7 WHEN i % 67 = 0 THEN NULL ELSE (i / 6000 + i) % 4 + 1 END, 1, 1 FROM n;
INSERT INTO tags SELECT id, 'vip', '2026-01-01' FROM customers WHERE id % 3 = 0;
INSERT INTO events (customer_id, type, at, payload) SELECT id, 'visit', '2026-02-0' || (id % 9 + 1), '{}' FROM customers;
)SQL";

template <class T>
void same(const std::vector<T>& a, const std::vector<T>& b, const std::string& what) {
  INFO(what);
  CHECK(a.size() == b.size());
  CHECK(a == b);
}

void same_facts(const Facts& a, const Facts& b) {
  REQUIRE(a.strings->size() == b.strings->size());
  for (int64_t i = 0; i < static_cast<int64_t>(a.strings->size()); ++i) REQUIRE(a.strings->get(i) == b.strings->get(i));
  CHECK(a.timezone == b.timezone);
  same(a.customer_id, b.customer_id, "customer_id");
  same(a.name, b.name, "name");
  same(a.email, b.email, "email");
  same(a.birthday, b.birthday, "birthday");
  same(a.created_at, b.created_at, "created_at");
  for (size_t k = 0; k < kOptInCount; ++k) same(a.opt_in[k], b.opt_in[k], "opt_in");
  same(a.referred_by, b.referred_by, "referred_by");
  same(a.referred_by_valid, b.referred_by_valid, "referred_by_valid");
  REQUIRE(a.extra.size() == b.extra.size());
  for (size_t k = 0; k < a.extra.size(); ++k) {
    CHECK(a.extra[k].name == b.extra[k].name);
    same(a.extra[k].i64, b.extra[k].i64, "extra i64");
    same(a.extra[k].f64, b.extra[k].f64, "extra f64");
    same(a.extra[k].valid, b.extra[k].valid, "extra valid");
  }
  same(a.order_offsets, b.order_offsets, "order_offsets");
  same(a.order_id, b.order_id, "order_id");
  same(a.order_day, b.order_day, "order_day");
  same(a.order_local_seconds, b.order_local_seconds, "order_local_seconds");
  same(a.order_total, b.order_total, "order_total");
  same(a.order_status, b.order_status, "order_status");
  same(a.order_row, b.order_row, "order_row");
  same(a.item_offsets, b.item_offsets, "item_offsets");
  same(a.item_sku, b.item_sku, "item_sku");
  same(a.orders_by_day, b.orders_by_day, "orders_by_day");
  same(a.sub_offsets, b.sub_offsets, "sub_offsets");
  same(a.sub_id, b.sub_id, "sub_id");
  same(a.survey_offsets, b.survey_offsets, "survey_offsets");
  same(a.referral_offsets, b.referral_offsets, "referral_offsets");
  same(a.event_id, b.event_id, "event_id");
  same(a.event_row, b.event_row, "event_row");
  same(a.event_type, b.event_type, "event_type");
  same(a.event_day, b.event_day, "event_day");
  same(a.tag_offsets, b.tag_offsets, "tag_offsets");
  same(a.tag, b.tag, "tag");
  same(a.tag_set_at, b.tag_set_at, "tag_set_at");
  CHECK(a.outbox.size() == b.outbox.size());
}

}  // namespace

TEST_CASE("store parallel load: same Facts and warnings as the single-threaded load") {
  TempDir dir;
  std::string path = dir.file("odd.db");
  { SqliteStore::open(path, true).db().exec(kOddStore); }
  for (std::string zone : {"UTC", "Asia/Tokyo", "America/New_York"}) {
    INFO(zone);
    SqliteStore single = SqliteStore::open(path);
    single.set_parallel_load_min_orders(std::numeric_limits<size_t>::max());
    int64_t before = single.statement_count();
    LoadResult a = single.load_facts(zone);
    int64_t single_statements = single.statement_count() - before;

    SqliteStore parallel = SqliteStore::open(path);
    parallel.set_parallel_load_min_orders(0);
    before = parallel.statement_count();
    LoadResult b = parallel.load_facts(zone);
    int64_t parallel_statements = parallel.statement_count() - before;

    // The parallel load ran (orders and items were read on the other connection).
    CHECK(parallel_statements < single_statements);
    CHECK(parallel_statements > 0);
    // The store is odd enough to exercise every warning of orders and items.
    CHECK(a.facts.order_id.size() > 5000);
    CHECK(a.facts.item_sku.size() > 8000);
    CHECK(a.warnings.size() > 60);
    same_facts(a.facts, b.facts);
    CHECK(a.warnings == b.warnings);
  }
}

TEST_CASE("store parallel load: an in-memory store and a load inside a transaction stay single-threaded") {
  TempDir dir;
  std::string path = dir.file("tx.db");
  { SqliteStore::open(path, true).db().exec(kOddStore); }
  SqliteStore single = SqliteStore::open(path);
  single.set_parallel_load_min_orders(std::numeric_limits<size_t>::max());
  LoadResult a = single.load_facts("UTC");

  SqliteStore in_tx = SqliteStore::open(path);
  in_tx.set_parallel_load_min_orders(0);
  in_tx.db().exec("BEGIN");
  LoadResult b = in_tx.load_facts("UTC");
  in_tx.db().exec("COMMIT");
  same_facts(a.facts, b.facts);
  CHECK(a.warnings == b.warnings);

  SqliteStore memory = SqliteStore::open(":memory:", true);
  memory.set_parallel_load_min_orders(0);
  memory.db().exec(kOddStore);
  LoadResult c = memory.load_facts("UTC");
  same_facts(a.facts, c.facts);
  CHECK(a.warnings == c.warnings);
}
