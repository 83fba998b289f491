// Unit tests of the outbox's narrow key (schema version 4; the customer id in its high bits since 5):
// idem_hash written with every row, a hash collision resolved by comparing the texts (probe to the
// next slot), and the migration of a version 3 outbox (UNIQUE text idem_key, outbox_by_rule).
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/store/idem_hash.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("outbox_key") {}
};

Days day(const char* s) { return *parse_date(s); }

int64_t scalar(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement q(db, sql);
  REQUIRE(q.executeStep());
  return q.getColumn(0).getInt64();
}

// `n` send rows for customers 1..n with keys "r|<id>|".
std::vector<OutboxRow> send_rows(int n) {
  std::vector<OutboxRow> rows;
  for (int c = 1; c <= n; ++c)
    rows.push_back({c, "r", "send", "m", std::string("email"), "{}", "r|" + std::to_string(c) + "|"});
  return rows;
}

}  // namespace

TEST_CASE("outbox key: the hash is fixed (stores hold it) and spreads near keys") {
  CHECK(idem_text_hash("") == 0xefd01f60ba992926ull);
  CHECK(idem_hash("") == static_cast<int64_t>(0xefd01f60ba992926ull));  // no customer: the text hash
  CHECK(idem_hash("r|1|") != idem_hash("r|2|"));
  CHECK(next_idem_slot(INT64_MAX) == INT64_MIN);
}

TEST_CASE("outbox key: the customer id in the high 32 bits (schema version 5), the text hash in the low") {
  auto low = [](std::string_view k) { return idem_text_hash(k) & 0xffffffffull; };
  CHECK(idem_hash("welcome|7|once|0") == static_cast<int64_t>((7ull << 32) | low("welcome|7|once|0")));
  CHECK((idem_hash("a.b|123456|2026-11-24|2") >> 32) == 123456);
  CHECK(idem_hash("r|8|x|0") > idem_hash("r|7|y|9"));  // in customer order
  CHECK(static_cast<uint64_t>(idem_hash("r|-3|x|0")) == ((static_cast<uint64_t>(-3) << 32) | low("r|-3|x|0")));
  for (std::string_view k : {"r|x|", "r|7", "r||", "r|7a|", "nobar", "r|99999999999999999999|"})
    CHECK(static_cast<uint64_t>(idem_hash(k)) == idem_text_hash(k));  // no customer id: the text hash
  int64_t c = 0;
  CHECK((idem_key_customer("r|42|d|0", c) && c == 42));
}

TEST_CASE("outbox key: every row gets idem_hash; a rerun inserts nothing") {
  TempDir dir;
  SqliteStore s = SqliteStore::open(dir.file("s.db"), true);
  auto rows = send_rows(250);  // two batches of 100 and a remainder of 50
  CHECK(s.write_actions(day("2026-11-24"), rows) == 250);
  CHECK(s.write_actions(day("2026-11-24"), rows) == 0);
  CHECK(scalar(s.db(), "SELECT count(*) FROM outbox") == 250);
  SQLite::Statement q(s.db(), "SELECT idem_key, idem_hash FROM outbox ORDER BY id");
  while (q.executeStep()) CHECK(q.getColumn(1).getInt64() == idem_hash(q.getColumn(0).getString()));
}

TEST_CASE("outbox key: a collision falls back to comparing the texts") {
  TempDir dir;
  SqliteStore s = SqliteStore::open(dir.file("s.db"), true);
  // Another key already holds the hashes of "r|7|" and of "r|7|"'s next slot, and of "r|120|":
  // as if two different keys had the same 64-bit hash.
  int64_t h7 = idem_hash("r|7|"), h120 = idem_hash("r|120|");
  SQLite::Statement hand(s.db(), "INSERT INTO outbox (run_date, customer_id, rule, action, target, idem_key, idem_hash) "
                                 "VALUES ('2026-11-01', 99, 'x', 'send', 'm', ?, ?)");
  for (auto [key, slot] : {std::pair<const char*, int64_t>{"other|a", h7}, {"other|b", next_idem_slot(h7)}, {"other|c", h120}}) {
    hand.reset();
    hand.bind(1, key);
    hand.bind(2, slot);
    hand.exec();
  }
  auto rows = send_rows(150);
  CHECK(s.write_actions(day("2026-11-24"), rows) == 150);  // nothing lost to the collisions
  CHECK(scalar(s.db(), "SELECT idem_hash FROM outbox WHERE idem_key = 'r|7|'") == next_idem_slot(next_idem_slot(h7)));
  CHECK(scalar(s.db(), "SELECT idem_hash FROM outbox WHERE idem_key = 'r|120|'") == next_idem_slot(h120));
  // A rerun finds them along their probe sequences: no duplicate.
  CHECK(s.write_actions(day("2026-11-24"), rows) == 0);
  CHECK(s.write_actions(day("2026-11-24"), {rows[6]}) == 0);
  CHECK(scalar(s.db(), "SELECT count(*) FROM outbox") == 153);
  CHECK(scalar(s.db(), "SELECT count(DISTINCT idem_key) FROM outbox") == 153);
}

TEST_CASE("outbox key: init migrates a version 3 outbox, keeping rows, ids and extra columns") {
  TempDir dir;
  std::string db = dir.file("old.db");
  SqliteStore::init(db);
  {
    // Back to the version 3 outbox: UNIQUE text key, outbox_by_rule, no idem_hash; plus a column
    // of the shop's own.
    SQLite::Database raw(db, SQLite::OPEN_READWRITE);
    raw.exec(R"sql(
DROP TABLE outbox;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, run_date DATE, customer_id INTEGER, rule TEXT, action TEXT,
  target TEXT, channel TEXT, payload TEXT, idem_key TEXT UNIQUE, created_at TEXT, note TEXT);
CREATE INDEX outbox_by_rule ON outbox (rule, customer_id);
CREATE INDEX outbox_by_run_date ON outbox (run_date);
INSERT INTO outbox (id, run_date, customer_id, rule, action, target, channel, payload, idem_key, note) VALUES
  (5, '2026-11-23', 1, 'r', 'send', 'm', 'email', '{}', 'r|1|', 'kept'),
  (9, '2026-11-23', 2, 'r', 'send', 'm', 'email', '{}', 'r|2|', NULL),
  (12, '2026-11-23', 3, 'r', 'send', 'm', 'email', '{}', NULL, NULL);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql");
  }
  CHECK_THROWS_WITH_AS(SqliteStore::open(db), doctest::Contains("crm init --db"), StoreError);
  CHECK(SqliteStore::init(db) == 3);
  SqliteStore s = SqliteStore::open(db);
  CHECK(scalar(s.db(), "SELECT count(*) FROM outbox") == 3);
  CHECK(scalar(s.db(), "SELECT id FROM outbox WHERE note = 'kept'") == 5);
  CHECK(scalar(s.db(), "SELECT idem_hash FROM outbox WHERE id = 9") == idem_hash("r|2|"));
  CHECK(scalar(s.db(), "SELECT count(*) FROM outbox WHERE id = 12 AND idem_hash IS NULL") == 1);
  // Only the narrow key: version 6 dropped outbox_by_run_date (test_outbox_order.cpp).
  CHECK(scalar(s.db(), "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'outbox' AND type = 'index'") == 1);
  CHECK(scalar(s.db(), "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_idem_hash'") == 1);
  // The same day again: the migrated keys dedupe; a new key goes in after the old ids.
  CHECK(s.write_actions(day("2026-11-23"), send_rows(2)) == 0);
  CHECK(s.write_actions(day("2026-11-24"), send_rows(4)) == 2);
  CHECK(scalar(s.db(), "SELECT min(id) FROM outbox WHERE run_date = '2026-11-24'") == 13);
  CHECK(SqliteStore::init(db) == kSchemaVersion);  // idempotent: nothing rebuilt again
  CHECK(scalar(s.db(), "SELECT count(*) FROM outbox") == 5);
}
