// The shard hash in C++ (shard_of) and in SQL (shard_sql, what a shard run's loader asks the
// database for) agree on every id, and a shard run reads only its customers' rows.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "engine/store/sqlite_store.hpp"
#include "engine/store/store.hpp"

using namespace crm::engine;

TEST_CASE("shard_sql: SQLite computes the shard of every id as shard_of does") {
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE);
  db.exec("CREATE TABLE t (id INTEGER)");
  std::vector<int64_t> ids = {0, 1, -1, 2, 7, 42, 2147483646, 2147483647, 2147483648, -2147483648,
                              std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min() + 1};
  for (int64_t i = 3; i < 3000; i += 7) ids.push_back(i * 7919);
  SQLite::Statement ins(db, "INSERT INTO t VALUES (?)");
  for (int64_t id : ids) {
    ins.bind(1, id);
    ins.exec();
    ins.reset();
  }
  db.exec("INSERT INTO t VALUES (NULL)");
  for (int count : {1, 2, 3, 4, 7, 16}) {
    std::map<int, int> sizes;
    for (int k = 1; k <= count; ++k) {
      Shard s{k, count};
      SQLite::Statement q(db, "SELECT id FROM t WHERE " + shard_sql("id", s));
      int nulls = 0;
      while (q.executeStep()) {
        if (q.getColumn(0).isNull()) { ++nulls; continue; }
        int64_t id = q.getColumn(0).getInt64();
        CHECK_MESSAGE(shard_of(id, count) == k, "id " << id << " of " << count);
        ++sizes[k];
      }
      CHECK(nulls == 1);  // a null id is read by every shard (and warned about)
    }
    int total = 0;
    for (auto& [k, n] : sizes) total += n;
    CHECK(total == static_cast<int>(ids.size()));  // every id in exactly one shard
    if (count == 2) CHECK(sizes[1] > static_cast<int>(ids.size()) / 3);  // not lopsided
  }
}

TEST_CASE("shard runs: the loader reads only the shard's customers, the same facts as filtering them") {
  auto store = SqliteStore::open(":memory:", true);
  store.db().exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
                  "INSERT INTO customers (id, name) SELECT i, 'c' || i FROM n");
  store.db().exec("INSERT INTO orders (id, customer_id, ordered_at, total, status) "
                  "SELECT id, id, '2026-11-01 10:00:00', 10, 'paid' FROM customers");
  store.db().exec("INSERT INTO products (id, sku) VALUES (1, 'A')");
  store.db().exec("INSERT INTO order_items (order_id, product_id) SELECT id, 1 FROM orders");
  size_t all = 0;
  for (int k = 1; k <= 3; ++k) {
    store.load_shard = Shard{k, 3};
    LoadResult r = store.load_facts("UTC");
    CHECK(r.warnings.empty());
    for (size_t row = 0; row < r.facts.rows(); ++row) CHECK(shard_of(r.facts.customer_id[row], 3) == k);
    CHECK(r.facts.order_id.size() == r.facts.rows());
    CHECK(r.facts.item_sku.size() == r.facts.rows());
    all += r.facts.rows();
  }
  CHECK(all == 400);
}
