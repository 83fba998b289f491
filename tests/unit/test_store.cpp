// Unit tests of the customer store: schema and migrations, the bulk load into Facts (including
// odd data and time zones), the run lock, runs and idempotent outbox writes.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("store_test") {}
};

SqliteStore make_store(const std::string& path, const std::string& sql) {
  SqliteStore s = SqliteStore::open(path, true);
  s.db().exec(sql);
  return s;
}

Days day(const char* s) { return *parse_date(s); }

bool has_warning(const std::vector<std::string>& ws, const std::string& part) {
  for (const auto& w : ws)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& ws) {
  std::string out;
  for (const auto& w : ws) out += w + "\n";
  return out;
}

bool table_exists(SQLite::Database& db, const char* name) {
  SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  q.bind(1, name);
  return q.executeStep();
}

}  // namespace

TEST_CASE("store: init creates every table and is idempotent") {
  TempDir dir;
  std::string db = dir.file("shop.db");
  CHECK(SqliteStore::init(db) == 0);
  CHECK(SqliteStore::init(db) == kSchemaVersion);  // a second init finds the current version
  SqliteStore s = SqliteStore::open(db);
  for (const char* t : {"customers", "products", "orders", "order_items", "subscriptions", "surveys", "referrals", "events",
                        "tags", "outbox", "meta", "runs"})
    CHECK_MESSAGE(table_exists(s.db(), t), t);
  CHECK(read_schema_version(s.db()) == kSchemaVersion);
  SQLite::Statement mode(s.db(), "PRAGMA journal_mode");
  REQUIRE(mode.executeStep());
  CHECK(mode.getColumn(0).getString() == "wal");
  CHECK_FALSE(s.meta_timezone().has_value());
  s.set_meta_timezone("Asia/Tokyo");
  CHECK(s.meta_timezone() == std::optional<std::string>("Asia/Tokyo"));
  CHECK(s.run_timezone(std::nullopt).name() == "Asia/Tokyo");
  CHECK(s.run_timezone(std::string("Europe/Paris")).name() == "Europe/Paris");
  CHECK_THROWS_AS(s.run_timezone(std::string("Nowhere/City")), StoreError);
}

TEST_CASE("store: init migrates a version 1 store and adopts hand-made tables") {
  TempDir dir;
  std::string db = dir.file("old.db");
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '1');"
             "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
             "CREATE TABLE tags (customer_id INTEGER, tag TEXT, set_at TEXT);"
             "INSERT INTO tags VALUES (1, 'vip', '2026-01-01'), (1, 'vip', '2026-02-01');");
  }
  CHECK_THROWS_WITH_AS(SqliteStore::open(db), doctest::Contains("crm init --db"), StoreError);
  CHECK(SqliteStore::init(db) == 1);
  SqliteStore s = SqliteStore::open(db);
  CHECK(table_exists(s.db(), "runs"));
  CHECK(table_exists(s.db(), "outbox"));
  SQLite::Statement q(s.db(), "SELECT COUNT(*) FROM tags");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() == 1);  // the migration deduplicated tags before the unique index

  std::string bare = dir.file("bare.db");
  {
    SQLite::Database raw(bare, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, plan TEXT)");
  }
  CHECK_THROWS_WITH_AS(SqliteStore::open(bare), doctest::Contains("no meta table"), StoreError);
  CHECK(SqliteStore::init(bare) == 0);
  CHECK_NOTHROW(SqliteStore::open(bare));
}

TEST_CASE("store: open gives clear errors for missing and foreign files") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(SqliteStore::open(dir.file("nope.db")), doctest::Contains("crm init --db"), StoreError);
  CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
  std::string junk = dir.file("junk.db");
  std::ofstream(junk) << "this is not a database, just some text that is long enough to be a header";
  CHECK_THROWS_WITH_AS(SqliteStore::open(junk), doctest::Contains("not a crm store"), StoreError);
  {
    SQLite::Database raw(dir.file("newer.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '99');");
  }
  CHECK_THROWS_WITH_AS(SqliteStore::open(dir.file("newer.db")), doctest::Contains("newer"), StoreError);
  CHECK_THROWS_WITH_AS(SqliteStore::init(dir.file("newer.db")), doctest::Contains("newer"), StoreError);
}

TEST_CASE("store: load_facts reads a small store") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("shop.db"), R"sql(
    ALTER TABLE customers ADD COLUMN plan TEXT;
    ALTER TABLE customers ADD COLUMN stamps INTEGER;
    ALTER TABLE customers ADD COLUMN ltv_score DECIMAL(10,2);
    ALTER TABLE customers ADD COLUMN vip_since DATE;
    ALTER TABLE customers ADD COLUMN is_staff BOOLEAN;
    INSERT INTO customers (id, name, email, birthday, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in,
                           dm_opt_in, referred_by, plan, stamps, ltv_score, vip_since, is_staff) VALUES
      (2, 'Bo', 'bo@example.com', NULL, '2026-01-05 09:00:00', 0, NULL, 'true', 'no', 1, 1, 'basic', 10, 1.5, '2026-03-01', 1),
      (1, '花子', 'hanako@example.jp', '1990-02-28', '2026-01-01', 1, 1, 0, 0, 0, NULL, 'premium', NULL, NULL, NULL, 0);
    INSERT INTO products (id, sku, name) VALUES (10, 'SOAP', 'soap'), (11, 'CREAM', 'cream');
    INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
      (100, 1, '2026-02-01T10:00:00Z', 3000, 'paid'),
      (101, 1, '2026-01-15T10:00:00Z', 1000, 'paid'),
      (102, 2, '2026-02-03', 500, 'cancelled');
    INSERT INTO order_items (order_id, product_id, quantity, price) VALUES
      (100, 10, 1, 1000), (100, 11, 1, 2000), (100, 10, 2, 1000), (101, 11, 1, 1000);
    INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles) VALUES
      (7, 1, 10, '2026-01-15', 'active', 2);
    INSERT INTO surveys VALUES (1, '2026-02-10', 5);
    INSERT INTO referrals VALUES (1, 2, '2026-01-05');
    INSERT INTO events (id, customer_id, type, at, payload) VALUES (1, 2, 'cart_abandoned', '2026-02-05T08:00:00Z', '{"sku":"SOAP"}');
    INSERT INTO tags VALUES (1, 'vip', '2026-02-01');
    INSERT INTO outbox (run_date, customer_id, rule, action, target, channel, payload, idem_key, created_at)
      VALUES ('2026-02-02', 1, 'thanks', 'send', 'thank_you', 'email', '{}', 'thanks|1|', '2026-02-02T00:00:00Z');
  )sql");
  LoadResult res = s.load_facts("UTC");
  const Facts& f = res.facts;
  INFO(joined(res.warnings));
  CHECK(res.warnings.empty());
  REQUIRE(f.rows() == 2);
  CHECK(f.customer_id == std::vector<int64_t>{1, 2});  // sorted by id
  CHECK(f.strings->get(f.name[0]) == "花子");
  CHECK(f.birthday[0] == day("1990-02-28"));
  CHECK(f.birthday[1] == kNoDay);
  CHECK(f.created_at[1] == day("2026-01-05"));
  CHECK(f.opt_in[static_cast<size_t>(OptIn::Email)] == std::vector<int8_t>{1, 0});
  CHECK(f.opt_in[static_cast<size_t>(OptIn::Line)] == std::vector<int8_t>{1, -1});
  CHECK(f.opt_in[static_cast<size_t>(OptIn::Sms)] == std::vector<int8_t>{0, 1});
  CHECK(f.referred_by_valid == std::vector<uint8_t>{0, 1});
  CHECK(f.row_of(2) == std::optional<size_t>(1));
  CHECK_FALSE(f.row_of(3).has_value());

  // Orders of customer 1, sorted by time; items deduplicated per order.
  REQUIRE(f.order_offsets == Offsets{0, 2, 3});
  CHECK(f.order_id[0] == 101);
  CHECK(f.order_id[1] == 100);
  CHECK(f.order_day[1] == day("2026-02-01"));
  CHECK(f.order_status[2] == OrderStatus::Cancelled);
  CHECK(f.item_offsets[2] - f.item_offsets[1] == 2);  // order 100: SOAP, CREAM
  auto [lo, hi] = f.orders_on(day("2026-02-01"));
  REQUIRE(hi - lo == 1);
  CHECK(f.order_id[f.orders_by_day[lo]] == 100);

  CHECK(f.sub_offsets == Offsets{0, 1, 1});
  CHECK(f.strings->get(f.sub_status[0]) == "active");
  CHECK(f.survey_satisfaction == std::vector<int64_t>{5});
  CHECK(f.referral_offsets == Offsets{0, 1, 1});
  REQUIRE(f.event_id.size() == 1);
  CHECK(f.event_payload[0] == R"({"sku":"SOAP"})");
  CHECK(f.events_on(day("2026-02-05")) == std::pair<size_t, size_t>(0, 1));
  CHECK(f.tag_offsets == Offsets{0, 1, 1});
  REQUIRE(f.outbox.size() == 1);
  CHECK(f.outbox[0].rule == "thanks");
  CHECK(f.outbox[0].row == 0);
  CHECK(f.outbox[0].run_date == day("2026-02-02"));

  // Extra columns, typed from their declared SQL type.
  auto extras = f.extra_attributes();
  REQUIRE(extras.size() == 5);
  CHECK(extras[0].name == "plan");
  CHECK(extras[0].type == lang::Type::string());
  CHECK(extras[1].type == lang::Type::integer());
  CHECK(extras[2].type == lang::Type::decimal());
  CHECK(extras[3].type == lang::Type::date());
  CHECK(extras[4].type == lang::Type::boolean());
  CHECK(f.extra[1].valid == std::vector<uint8_t>{0, 1});
  CHECK(f.extra[2].f64[1] == doctest::Approx(1.5));
  CHECK(f.extra[3].i64[1] == day("2026-03-01"));
  auto quick = s.extra_attributes();
  REQUIRE(quick.size() == 5);
  CHECK(quick[4].name == "is_staff");
}

TEST_CASE("store: an order at 23:30 UTC is the next day in Asia/Tokyo") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("tz.db"), R"sql(
    INSERT INTO customers (id, name) VALUES (1, 'a');
    INSERT INTO orders VALUES (1, 1, '2026-11-23T23:30:00Z', 100, 'paid');
    INSERT INTO orders VALUES (2, 1, '2026-11-23 23:30:00', 100, 'paid');
    INSERT INTO orders VALUES (3, 1, '2026-11-24T08:59:59+09:00', 100, 'paid');
  )sql");
  auto utc = s.load_facts("UTC").facts;
  auto tokyo = s.load_facts("Asia/Tokyo").facts;
  auto day_of_order = [](const Facts& f, int64_t id) {
    for (size_t i = 0; i < f.order_id.size(); ++i)
      if (f.order_id[i] == id) return f.order_day[i];
    return kNoDay;
  };
  CHECK(day_of_order(utc, 1) == day("2026-11-23"));
  CHECK(day_of_order(tokyo, 1) == day("2026-11-24"));
  // Without an offset a timestamp is local time in the run's zone: its date as written.
  CHECK(day_of_order(utc, 2) == day("2026-11-23"));
  CHECK(day_of_order(tokyo, 2) == day("2026-11-23"));
  CHECK(day_of_order(utc, 3) == day("2026-11-23"));
  CHECK(day_of_order(tokyo, 3) == day("2026-11-24"));
  CHECK_THROWS_WITH_AS(s.load_facts("Asia/Tokio"), doctest::Contains("Asia/Tokyo"), StoreError);
}

TEST_CASE("store: timestamps and daylight saving time") {
  std::string err;
  auto ny = TimeZone::load("America/New_York", err);
  REQUIRE(ny);
  // 2026-03-08 07:00Z is 03:00 EDT (the change at 2:00 EST); 06:59:59Z is 01:59:59 EST.
  auto t = parse_timestamp("2026-03-08T06:59:59Z", *ny);
  REQUIRE(t);
  CHECK(t->local_seconds % 86400 == 1 * 3600 + 59 * 60 + 59);
  t = parse_timestamp("2026-03-08T07:00:00Z", *ny);
  REQUIRE(t);
  CHECK(t->local_seconds % 86400 == 3 * 3600);
  CHECK(parse_timestamp("2026-11-24T04:30:00Z", *ny)->day == day("2026-11-23"));
  CHECK(parse_timestamp("2026-11-24T05:30:00Z", *ny)->day == day("2026-11-24"));
  auto kathmandu = TimeZone::load("Asia/Kathmandu", err);
  REQUIRE(kathmandu);
  CHECK(kathmandu->offset_at(1'800'000'000) == 5 * 3600 + 45 * 60);

  TimeZone utc;
  for (const char* ok : {"2026-11-23", "2026-11-23T10:15:00+09:00", "2026-11-23 10:15:00", "2026-11-23T10:15",
                         "2026-11-23T10:15:00.123Z", "2026-11-23T10:15:00-0500", "2026-11-23T10:15:00+09", " 2026-11-23 "})
    CHECK_MESSAGE(parse_timestamp(ok, utc).has_value(), ok);
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "23/11/2026", "2026-11-23X", "2026-11-23T25:00", "2026-11-23T10",
                          "2026-11-23T10:15:00+9", "2026-11-23T10:15:00 garbage", "not a date"})
    CHECK_MESSAGE(!parse_timestamp(bad, utc).has_value(), bad);
  CHECK(parse_timestamp("2026-11-23T10:15:00+09:00", utc)->day == day("2026-11-23"));
  CHECK(parse_timestamp("2026-11-23T03:00:00+09:00", utc)->day == day("2026-11-22"));
  CHECK_FALSE(TimeZone::load("../../etc/passwd", err).has_value());
  CHECK_FALSE(TimeZone::load("Mars/Olympus", err).has_value());
}

TEST_CASE("store: odd data gives warnings, never a crash") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("odd.db"), R"sql(
    INSERT INTO customers (id, name, birthday, created_at, email_opt_in) VALUES
      (1, 'a', '2000-02-29', 'yesterday', 'maybe'),
      (2, 'b', '1990-02-30', NULL, 1);
    INSERT INTO orders VALUES (10, 1, NULL, 100, 'paid');
    INSERT INTO orders VALUES (11, 1, 'soon', 100, 'paid');
    INSERT INTO orders VALUES (12, 99, '2026-01-01', 100, 'paid');
    INSERT INTO orders VALUES (13, 1, '2026-01-01', -50, 'paid');
    INSERT INTO orders VALUES (14, 1, '2026-01-02', 70, 'pending');
    INSERT INTO orders VALUES (15, 1, '2026-01-03', 70, 'pending');
    INSERT INTO orders VALUES (16, 2, '2026-01-03', 70, 'shipped');
    INSERT INTO orders VALUES (17, 2, '2099-01-03', 70, 'paid');
    INSERT INTO order_items VALUES (13, 555, 1, 10);
    INSERT INTO subscriptions (id, customer_id, started_at, status) VALUES (1, 1, 'bad', 'active'), (2, 42, '2026-01-01', 'active');
    INSERT INTO surveys VALUES (1, '2026-01-01', 9), (1, '2026-01-01', 4);
    INSERT INTO events (id, customer_id, type, at) VALUES (1, 1, 'visit', NULL), (2, 1, NULL, '2026-01-01');
    DROP INDEX tags_unique;  -- a hand-edited store may hold duplicate tags
    INSERT INTO tags VALUES (2, 'vip', '2026-01-05');
    INSERT INTO tags VALUES (2, 'vip', '2026-01-01');
    INSERT INTO tags VALUES (2, 'vip', '2026-01-03');
    INSERT INTO tags VALUES (2, 'new', 'garbage');
  )sql");
  LoadResult res = s.load_facts("UTC");
  const auto& w = res.warnings;
  const Facts& f = res.facts;
  INFO(joined(w));
  CHECK(has_warning(w, "customers id 1: malformed created_at 'yesterday'"));
  CHECK(has_warning(w, "customers id 2: malformed birthday '1990-02-30'"));
  CHECK(has_warning(w, "email_opt_in 'maybe' is not a boolean"));
  CHECK(has_warning(w, "orders id 10: no ordered_at"));
  CHECK(has_warning(w, "orders id 11: malformed ordered_at 'soon'"));
  CHECK(has_warning(w, "orders id 12: unknown customer 99"));
  CHECK(has_warning(w, "2 order(s) with unknown status 'pending'"));
  CHECK(has_warning(w, "1 order(s) with unknown status 'shipped'"));
  CHECK(has_warning(w, "item(s) name an unknown product"));
  CHECK(has_warning(w, "subscriptions id 1: malformed started_at 'bad'"));
  CHECK(has_warning(w, "subscriptions id 2: unknown customer 42"));
  CHECK(has_warning(w, "satisfaction '9' is not 1..5"));
  CHECK(has_warning(w, "events id 1: no at"));
  CHECK(has_warning(w, "events id 2: no type"));
  CHECK(has_warning(w, "malformed set_at 'garbage'"));
  CHECK(f.birthday[0] == day("2000-02-29"));
  CHECK(f.birthday[1] == kNoDay);
  CHECK(f.created_at[0] == kNoDay);
  CHECK(f.opt_in[0][0] == -1);
  // Orders kept: 13 (negative total kept), 14, 15 (unknown status) for customer 1; 16, 17 for 2.
  CHECK(f.order_offsets == Offsets{0, 3, 5});
  CHECK(f.order_total[0] == -50);
  CHECK(f.order_status[1] == OrderStatus::Unknown);
  CHECK(f.survey_satisfaction == std::vector<int64_t>{4});
  // Duplicate tags are deduplicated, keeping the earliest set_at.
  REQUIRE(f.tag_offsets == Offsets{0, 0, 2});
  int64_t vip = f.strings->find("vip");
  for (uint32_t i = 0; i < 2; ++i)
    if (f.tag[i] == vip) CHECK(f.tag_set_at[i] == day("2026-01-01"));
}

TEST_CASE("store: warnings of one kind are capped") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("many.db"), "INSERT INTO customers (id) VALUES (1);");
  s.db().exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
              "INSERT INTO orders (id, customer_id, ordered_at, total, status) SELECT i, 1000 + i, '2026-01-01', 1, 'paid' FROM n");
  auto res = s.load_facts("UTC");
  CHECK(res.warnings.size() < 30);
  CHECK(has_warning(res.warnings, "and 480 more warnings like: orders of unknown customers"));
}

TEST_CASE("store: load_facts runs a constant number of statements") {
  TempDir dir;
  auto count_for = [&](int customers) {
    std::string name = dir.file(std::to_string(customers) + ".db");
    SqliteStore s = make_store(name, "");
    s.db().exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(customers) +
                ") INSERT INTO customers (id, name) SELECT i, 'c' || i FROM n;"
                "INSERT INTO orders (id, customer_id, ordered_at, total, status) SELECT id, id, '2026-01-01', 10, 'paid' FROM customers;"
                "INSERT INTO products VALUES (1, 'SKU', 'x', 'y', 1);"
                "INSERT INTO order_items SELECT id, 1, 1, 1 FROM orders;"
                "INSERT INTO tags SELECT id, 'vip', '2026-01-01' FROM customers;"
                "INSERT INTO surveys SELECT id, '2026-01-01', 3 FROM customers;");
    int64_t before = s.statement_count();
    auto res = s.load_facts("UTC");
    CHECK(res.facts.rows() == static_cast<size_t>(customers));
    CHECK(res.facts.item_sku.size() == static_cast<size_t>(customers));
    REQUIRE(res.facts.item_category.size() == res.facts.item_sku.size());
    CHECK(res.facts.strings->get(res.facts.item_category[0]) == "y");
    return s.statement_count() - before;
  };
  int64_t small = count_for(10), large = count_for(2000);
  CHECK(small == large);
  CHECK(small > 0);
  CHECK(small <= 30);  // 25 + the check that every SPEC §5 table exists + the models table lookup and its rows (load_models.cpp) + meta's columns and currency
}

TEST_CASE("store: write_actions is idempotent and applies tag changes in the same transaction") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("out.db"), "INSERT INTO customers (id) VALUES (1), (2);");
  std::vector<OutboxRow> rows = {
      {1, "thanks", "send", "thank_you", std::string("email"), "{}", "thanks|1|"},
      {2, "thanks", "send", "thank_you", std::string("email"), "", "thanks|2|"},
      {1, "vip", "tag", "vip", std::nullopt, "{}", "vip|1|"},
  };
  std::vector<TagChange> tags = {{1, "vip", true}};
  CHECK(s.write_actions(day("2026-11-23"), rows, tags) == 3);
  CHECK(s.write_actions(day("2026-11-23"), rows, tags) == 0);  // the same day again: nothing new
  rows.push_back({2, "thanks", "send", "thank_you", std::string("email"), "{}", "thanks|2|2026-11-24"});
  CHECK(s.write_actions(day("2026-11-24"), rows) == 1);
  SQLite::Statement q(s.db(), "SELECT COUNT(*), COUNT(channel) FROM outbox");
  REQUIRE(q.executeStep());
  CHECK(q.getColumn(0).getInt() == 4);
  CHECK(q.getColumn(1).getInt() == 3);  // the tag action has a null channel
  auto f = s.load_facts("UTC").facts;
  REQUIRE(f.tag_offsets == Offsets{0, 1, 1});
  CHECK(f.tag_set_at[0] == day("2026-11-23"));
  CHECK(f.outbox.size() == 4);
  s.set_tags(day("2026-11-25"), {{1, "vip", false}, {2, "dormant", true}});
  f = s.load_facts("UTC").facts;
  CHECK(f.tag_offsets == Offsets{0, 0, 1});
}

TEST_CASE("store: runs record completed days") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("runs.db"), "");
  CHECK_FALSE(s.last_completed_run().has_value());
  s.begin_run(day("2026-11-20"));
  CHECK_FALSE(s.last_completed_run().has_value());  // started, not completed
  s.complete_run(day("2026-11-20"));
  s.begin_run(day("2026-11-21"));
  CHECK(s.last_completed_run() == std::optional<Days>(day("2026-11-20")));
  s.complete_run(day("2026-11-21"));
  CHECK(s.last_completed_run() == std::optional<Days>(day("2026-11-21")));
}

TEST_CASE("store: the run lock is the database file, whatever path reaches it (symlink, relative path)") {
  TempDir dir;
  std::string path = dir.file("lock.db");
  { SqliteStore init = SqliteStore::open(path, true); }
  std::filesystem::create_directory(dir.file("other"));
  std::filesystem::create_symlink(path, dir.file("other/sym.db"));
  SqliteStore a = SqliteStore::open(path);
  SqliteStore sym = SqliteStore::open(dir.file("other/sym.db"));
  SqliteStore rel = SqliteStore::open(dir.file("other/../lock.db"));
  RunLock first = a.lock_runs(std::chrono::milliseconds(0));
  CHECK_THROWS_WITH_AS(sym.lock_runs(std::chrono::milliseconds(100)), doctest::Contains("another crm run"), StoreError);
  CHECK_THROWS_WITH_AS(rel.lock_runs(std::chrono::milliseconds(100)), doctest::Contains("another crm run"), StoreError);
  first = RunLock();
  RunLock second = rel.lock_runs(std::chrono::milliseconds(100));
  CHECK(second.held());
  CHECK_THROWS_AS(sym.lock_runs(std::chrono::milliseconds(50)), StoreError);
  second = RunLock();
  CHECK(sym.lock_runs(std::chrono::milliseconds(100)).held());
  // Taking and releasing the lock never drops SQLite's own locks: the store still works.
  CHECK_NOTHROW(a.write_actions(20000, {}, {}, true));
}

TEST_CASE("store: a store with a second hard link is refused for writing, read-only opening works") {
  TempDir dir;
  std::string path = dir.file("linked.db");
  { SqliteStore init = SqliteStore::open(path, true); }
  std::filesystem::create_hard_link(path, dir.file("hard.db"));
  for (const std::string& name : {path, dir.file("hard.db")}) {
    CHECK_THROWS_WITH_AS(SqliteStore::open(name), doctest::Contains("2 hard links"), StoreError);
    CHECK_THROWS_WITH_AS(SqliteStore::init(name), doctest::Contains("symbolic link"), StoreError);
    CHECK_NOTHROW(SqliteStore::open(name, false, /*read_only=*/true));
  }
  std::filesystem::remove(dir.file("hard.db"));
  CHECK_NOTHROW(SqliteStore::open(path));
}

TEST_CASE("store: init says what it added to a store with a current schema") {
  TempDir dir;
  std::string path = dir.file("repair.db");
  SqliteStore::init(path);
  std::vector<std::string> added;
  CHECK(init_store(path, &added) == kSchemaVersion);
  CHECK(added.empty());
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE runs");
    db.exec("DROP TABLE referrals");
  }
  CHECK(init_store(path, &added) == kSchemaVersion);
  CHECK(added == std::vector<std::string>{"table referrals", "table runs"});
}

TEST_CASE("store: a second run waits for the lock, then fails clearly") {
  TempDir dir;
  std::string path = dir.file("lock.db");
  SqliteStore a = SqliteStore::open(path, true);
  SqliteStore b = SqliteStore::open(path);
  RunLock first = a.lock_runs(std::chrono::milliseconds(0));
  CHECK(first.held());
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(b.lock_runs(std::chrono::milliseconds(200)), doctest::Contains("another crm run"), StoreError);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(200));
  first = RunLock();  // released
  RunLock second = b.lock_runs(std::chrono::milliseconds(200));
  CHECK(second.held());
}

TEST_CASE("store: the timestamp parser survives arbitrary input") {
  std::string err;
  auto tokyo = TimeZone::load("Asia/Tokyo", err);
  REQUIRE(tokyo);
  const std::string seed = "2026-11-23T10:15:00.5+09:00";
  const std::string alphabet = "0123456789-:+TZ .,tz\xff";
  uint64_t x = 88172645463325252ull;  // xorshift: deterministic
  auto next = [&] { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; };
  size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seed;
    for (int k = 0, n = static_cast<int>(next() % 4); k < n; ++k) {
      size_t pos = next() % (s.size() + 1);
      switch (next() % 3) {
        case 0: if (pos < s.size()) s.erase(pos, 1); break;
        case 1: s.insert(pos, 1, alphabet[next() % alphabet.size()]); break;
        default: if (pos < s.size()) s[pos] = alphabet[next() % alphabet.size()]; break;
      }
    }
    auto t = parse_timestamp(s, *tokyo);
    if (!t) continue;
    ++parsed;
    CHECK(t->day == floor_div(t->local_seconds, kSecondsPerDay));
  }
  CHECK(parsed > 0);
  CHECK(parse_timestamp("9999-12-31T23:59:59-18:00", *tokyo).has_value());  // far future: no overflow
  CHECK(local_time_of_epoch(0, *tokyo).day == 0);                         // 1970-01-01 09:00 JST
}

TEST_CASE("store: integer timestamps are Unix seconds; odd extra columns are skipped with a reason") {
  TempDir dir;
  SqliteStore s = make_store(dir.file("x.db"), R"sql(
    ALTER TABLE customers ADD COLUMN points INTEGER;
    ALTER TABLE customers ADD COLUMN photo BLOB;
    ALTER TABLE customers ADD COLUMN purchase_count INTEGER;
    ALTER TABLE customers ADD COLUMN "first name" TEXT;
    ALTER TABLE customers ADD COLUMN note;
    INSERT INTO customers (id, note) VALUES (1, 42);
    DROP TABLE orders;  -- a hand-made table whose ordered_at holds integers (no TEXT affinity)
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ordered_at, total, status);
    INSERT INTO orders VALUES (1, 1, 1795476600, 10, 'PAID');  -- 2026-11-23T23:30:00Z
  )sql");
  auto res = s.load_facts("Asia/Tokyo");
  INFO(joined(res.warnings));
  CHECK(has_warning(res.warnings, "customers.points is not an attribute: its name is a keyword"));
  CHECK(has_warning(res.warnings, "customers.photo is not an attribute: BLOB"));
  CHECK(has_warning(res.warnings, "customers.purchase_count is not an attribute: a builtin attribute"));
  CHECK(has_warning(res.warnings, "customers.first name is not an attribute: its name is not an identifier"));
  REQUIRE(res.facts.extra.size() == 1);
  CHECK(res.facts.extra[0].name == "note");  // no declared type: a string
  CHECK(res.facts.strings->get(res.facts.extra[0].i64[0]) == "42");
  REQUIRE(res.facts.order_day.size() == 1);
  CHECK(res.facts.order_day[0] == day("2026-11-24"));
  CHECK(res.facts.order_status[0] == OrderStatus::Paid);  // status compared without case
}

TEST_CASE("store: an in-memory store for fixtures") {
  SqliteStore s = SqliteStore::open(":memory:", true);
  s.db().exec("INSERT INTO customers (id, name, email_opt_in) VALUES (7, 'x', 1);"
              "INSERT INTO orders VALUES (1, 7, '2026-01-01', 10, 'paid');");
  auto res = s.load_facts("UTC");
  CHECK(res.facts.rows() == 1);
  CHECK(res.facts.order_id.size() == 1);
  CHECK_FALSE(s.lock_runs().held());  // nothing to lock for a store in memory
  CHECK(s.write_actions(day("2026-01-02"), {{7, "r", "send", "m", std::string("email"), "{}", "r|7|"}}) == 1);
}

TEST_CASE("store: the run lock is released when its process is killed (kill -9)") {
  TempDir dir;
  std::string path = dir.file("killed.db");
  { SqliteStore init = SqliteStore::open(path, true); }
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    SqliteStore s = SqliteStore::open(path);
    RunLock lock = s.lock_runs(std::chrono::milliseconds(0));
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    pause();  // hold the lock until killed
    _exit(0);
  }
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  SqliteStore s = SqliteStore::open(path);
  std::string holder = "process " + std::to_string(child);
  CHECK_THROWS_WITH_AS(s.lock_runs(std::chrono::milliseconds(100)), doctest::Contains(holder.c_str()), StoreError);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  RunLock lock = s.lock_runs(std::chrono::milliseconds(1000));
  CHECK(lock.held());
  close(ready[0]);
  close(ready[1]);
}
