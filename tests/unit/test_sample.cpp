// Tests of the sample shop generator (engine/import/sample_shop.cpp) and the Online Retail importer
// (engine/import/): determinism, realism targets, date bounds and referential integrity.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/store/sqlite_store.hpp"
#include "engine/import/online_retail.hpp"
#include "engine/import/sample_shop.hpp"

namespace fs = std::filesystem;
using crm::examples::generate_shop;
using crm::examples::ShopOptions;

namespace {

// A fresh path in the temp dir, removed on destruction.
struct TempDb {
  fs::path path;
  explicit TempDb(const std::string& name)
      : path(fs::temp_directory_path() / ("crm_test_sample_" + name + "_" + std::to_string(::getpid()) + ".db")) {
    fs::remove(path);
  }
  ~TempDb() { fs::remove(path); }
  std::string str() const { return path.string(); }
};

int64_t scalar(SQLite::Database& db, const std::string& sql) { return db.execAndGet(sql).getInt64(); }

// FNV-1a over every value of a query's rows, as text.
uint64_t checksum(SQLite::Database& db, const std::string& sql) {
  uint64_t h = 1469598103934665603ull;
  SQLite::Statement q(db, sql);
  while (q.executeStep()) {
    for (int i = 0; i < q.getColumnCount(); ++i) {
      std::string v = q.getColumn(i).isNull() ? "\x01null" : q.getColumn(i).getString();
      for (unsigned char c : v) h = (h ^ c) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;
    }
  }
  return h;
}

uint64_t shop_checksum(const std::string& path) {
  SQLite::Database db(path);
  return checksum(db, "SELECT * FROM customers ORDER BY id") ^ (checksum(db, "SELECT * FROM orders ORDER BY id") << 1) ^
         (checksum(db, "SELECT * FROM subscriptions ORDER BY id") << 2) ^ (checksum(db, "SELECT * FROM events ORDER BY id") << 3);
}

ShopOptions small(int64_t customers, uint64_t seed) {
  ShopOptions o;
  o.customers = customers;
  o.seed = seed;
  return o;
}

}  // namespace

TEST_CASE("sample: the same seed gives the same shop, another seed a different one") {
  TempDb a("det_a"), b("det_b"), c("det_c");
  auto ca = generate_shop(a.str(), small(2000, 7));
  auto cb = generate_shop(b.str(), small(2000, 7));
  auto cc = generate_shop(c.str(), small(2000, 8));
  CHECK(ca.customers == 2000);
  CHECK(cc.customers == 2000);
  CHECK(ca.orders == cb.orders);
  CHECK(ca.order_items == cb.order_items);
  CHECK(ca.subscriptions == cb.subscriptions);
  CHECK(ca.events == cb.events);
  CHECK(ca.tags == cb.tags);
  CHECK(shop_checksum(a.str()) == shop_checksum(b.str()));
  CHECK(shop_checksum(a.str()) != shop_checksum(c.str()));
  SQLite::Database db(a.str());
  CHECK(scalar(db, "SELECT count(*) FROM orders") == ca.orders);
  CHECK(scalar(db, "SELECT count(*) FROM surveys") == ca.surveys);
}

TEST_CASE("sample: a generated store refuses a second generation") {
  TempDb a("twice");
  generate_shop(a.str(), small(10, 1));
  CHECK_THROWS_AS(generate_shop(a.str(), small(10, 1)), std::runtime_error);
}

TEST_CASE("sample: 10k customers look like a D2C shop") {
  TempDb a("realism");
  auto counts = generate_shop(a.str(), ShopOptions{});
  SQLite::Database db(a.str());
  CHECK(counts.customers == 10'000);
  // F2: buyers with a second paid order among buyers with a first.
  double buyers = scalar(db, "SELECT count(DISTINCT customer_id) FROM orders WHERE status = 'paid'");
  double repeaters = scalar(db, "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE status = 'paid'"
                                " GROUP BY customer_id HAVING count(*) >= 2)");
  double f2 = repeaters / buyers;
  CHECK(f2 >= 0.20);
  CHECK(f2 <= 0.30);
  // Repeat rates rise after the second purchase (F3/F2 above F2).
  double f3 = scalar(db, "SELECT count(*) FROM (SELECT customer_id FROM orders WHERE status = 'paid'"
                         " GROUP BY customer_id HAVING count(*) >= 3)");
  CHECK(f3 / repeaters > f2);
  // Order statuses: about 3 % cancelled and 2 % refunded.
  double orders = scalar(db, "SELECT count(*) FROM orders");
  double cancelled = scalar(db, "SELECT count(*) FROM orders WHERE status = 'cancelled'") / orders;
  double refunded = scalar(db, "SELECT count(*) FROM orders WHERE status = 'refunded'") / orders;
  CHECK(cancelled > 0.02);
  CHECK(cancelled < 0.04);
  CHECK(refunded > 0.012);
  CHECK(refunded < 0.028);
  // Subscriptions for about a fifth of customers, in all three states, with the top reasons.
  double subscribers = scalar(db, "SELECT count(DISTINCT customer_id) FROM subscriptions") / 10'000.0;
  CHECK(subscribers > 0.15);
  CHECK(subscribers < 0.25);
  for (const char* s : {"active", "paused", "cancelled"})
    CHECK(scalar(db, std::string("SELECT count(*) FROM subscriptions WHERE status = '") + s + "'") > 0);
  for (const char* r : {"no_effect", "too_much_stock", "too_expensive"})
    CHECK(scalar(db, std::string("SELECT count(*) FROM subscriptions WHERE cancel_reason = '") + r + "'") > 10);
  // Cycles match the deliveries: one subscription order per cycle.
  CHECK(scalar(db, "SELECT sum(cycles) FROM subscriptions") ==
        scalar(db, "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id"
                   " WHERE p.category = 'subscription'"));
  // Surveys for about a third of buyers, skewed high.
  double surveyed = scalar(db, "SELECT count(DISTINCT customer_id) FROM surveys") / buyers;
  CHECK(surveyed > 0.25);
  CHECK(surveyed < 0.37);
  CHECK(scalar(db, "SELECT avg(satisfaction) * 100 FROM surveys") > 350);
  // Opt-in rates near their targets.
  CHECK(scalar(db, "SELECT avg(email_opt_in) * 100 FROM customers") == doctest::Approx(70).epsilon(0.05));
  CHECK(scalar(db, "SELECT avg(line_opt_in) * 100 FROM customers") == doctest::Approx(40).epsilon(0.08));
  // Birthdays: about 15 % unknown, and some 29 February.
  double no_birthday = scalar(db, "SELECT count(*) FROM customers WHERE birthday IS NULL") / 10'000.0;
  CHECK(no_birthday > 0.12);
  CHECK(no_birthday < 0.18);
  CHECK(scalar(db, "SELECT count(*) FROM customers WHERE substr(birthday, 6) = '02-29'") >= 5);
  // Referrals, tags and events exist, and purchases happen in the last days (step mails fire).
  CHECK(counts.referrals > 100);
  for (const char* t : {"vip", "wholesale", "complained"})
    CHECK(scalar(db, std::string("SELECT count(*) FROM tags WHERE tag = '") + t + "'") > 0);
  CHECK(scalar(db, "SELECT count(*) FROM events WHERE type = 'cancel_request'"
                   " AND json_extract(payload, '$.reason') IS NOT NULL") > 10);
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE ordered_at >= '2026-11-17'") > 20);
  CHECK(scalar(db, "SELECT count(*) FROM events WHERE type = 'cancel_request' AND at >= '2026-11-20'") > 0);
}

TEST_CASE("sample: no fact is dated after as_of") {
  TempDb a("dates");
  ShopOptions o = small(3000, 3);
  o.as_of = crm::days_from_civil(2025, 3, 1);
  generate_shop(a.str(), o);
  SQLite::Database db(a.str());
  const std::string end = "'2025-03-01T23:59:59'";
  CHECK(scalar(db, "SELECT count(*) FROM customers WHERE created_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE ordered_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM subscriptions WHERE started_at > " + end + " OR cancelled_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM surveys WHERE answered_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM referrals WHERE created_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM events WHERE at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM tags WHERE set_at > " + end) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM customers WHERE birthday > '2025-03-01'") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE ordered_at LIKE '2025-03-01T%'") > 0);
  // Nothing precedes the customer's sign-up either.
  CHECK(scalar(db, "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
                   " WHERE o.ordered_at < c.created_at") == 0);
}

TEST_CASE("sample: references point at existing rows") {
  TempDb a("refs");
  generate_shop(a.str(), small(3000, 11));
  SQLite::Database db(a.str());
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM order_items WHERE product_id NOT IN (SELECT id FROM products)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM orders o WHERE total != (SELECT sum(quantity * price) FROM order_items"
                   " WHERE order_id = o.id)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM subscriptions WHERE customer_id NOT IN (SELECT id FROM customers)"
                   " OR product_id NOT IN (SELECT id FROM products)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM surveys WHERE customer_id NOT IN (SELECT id FROM customers)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM events WHERE customer_id NOT IN (SELECT id FROM customers)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM tags WHERE customer_id NOT IN (SELECT id FROM customers)") == 0);
  // Every referral has its referee's referred_by, and the referrer signed up first.
  CHECK(scalar(db, "SELECT count(*) FROM referrals") > 0);
  CHECK(scalar(db, "SELECT count(*) FROM referrals r JOIN customers c ON c.id = r.referee_id"
                   " WHERE c.referred_by IS NOT r.referrer_id") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM customers WHERE referred_by IS NOT NULL") ==
        scalar(db, "SELECT count(*) FROM referrals"));
  CHECK(scalar(db, "SELECT count(*) FROM referrals r JOIN customers a ON a.id = r.referrer_id"
                   " WHERE a.created_at > r.created_at") == 0);
  // Cancelled subscriptions carry a date and a reason; active ones neither.
  CHECK(scalar(db, "SELECT count(*) FROM subscriptions WHERE status = 'cancelled'"
                   " AND (cancelled_at IS NULL OR cancel_reason IS NULL)") == 0);
  CHECK(scalar(db, "SELECT count(*) FROM subscriptions WHERE status = 'active' AND cancelled_at IS NOT NULL") == 0);
}

TEST_CASE("sample: the store opens and loads into facts without a warning") {
  TempDb a("load");
  auto counts = generate_shop(a.str(), small(2000, 5));
  auto store = crm::engine::SqliteStore::open(a.str());
  CHECK(store.meta_timezone() == std::optional<std::string>("Asia/Tokyo"));
  auto loaded = store.load_facts("Asia/Tokyo");
  for (const auto& w : loaded.warnings) MESSAGE(w);
  CHECK(loaded.warnings.empty());
  CHECK(static_cast<int64_t>(loaded.facts.rows()) == counts.customers);
}

namespace {

void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("sample: the Online Retail importer reads a gzip CSV with a cancellation") {
  TempDb db_file("retail");
  std::string csv = (fs::temp_directory_path() / ("crm_test_retail_" + std::to_string(::getpid()) + ".csv.gz")).string();
  write_gzip(csv,
             "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n"
             "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\r\n"
             "536365,71053,\"WHITE METAL LANTERN, LARGE\",6,12/1/2010 8:26,3.39,17850,United Kingdom\r\n"
             "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850.0,United Kingdom\r\n"
             "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047,United Kingdom\r\n"
             "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\r\n"
             "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\r\n"
             "C536383,71053,\"WHITE METAL LANTERN, LARGE\",-1,12/2/2010 9:49,3.39,17850,United Kingdom\r\n"
             "536368,22960,JAM MAKING SET WITH JARS,6,not a date,4.25,13047,United Kingdom\r\n"
             "536369,21756,CAF\xC9 SIGN,3,2011-01-05 10:15:00,5.95,12583,France\r\n");
  auto counts = crm::examples::import_online_retail(db_file.str(), csv);
  fs::remove(csv);
  CHECK(counts.rows == 9);
  CHECK(counts.skipped_no_customer == 1);
  CHECK(counts.skipped_bad == 1);
  REQUIRE(counts.warnings.size() == 1);
  CHECK(counts.warnings[0].find(":9: skipped: InvoiceDate") != std::string::npos);
  CHECK(counts.customers == 4);
  CHECK(counts.orders == 4);
  CHECK(counts.refunds == 2);
  CHECK(counts.order_items == 7);
  SQLite::Database db(db_file.str());
  CHECK(db.execAndGet("SELECT ordered_at FROM orders WHERE id = 536365").getString() == "2010-12-01T08:26:00");
  CHECK(db.execAndGet("SELECT total FROM orders WHERE id = 536365").getDouble() == doctest::Approx(6 * 2.55 + 6 * 3.39));
  CHECK(db.execAndGet("SELECT status FROM orders WHERE id = 536365").getString() == "paid");
  // The cancellation is its own refunded order; the invoice it reverses stays paid.
  CHECK(db.execAndGet("SELECT status FROM orders WHERE id = 1000536383").getString() == "refunded");
  CHECK(db.execAndGet("SELECT total FROM orders WHERE id = 1000536383").getDouble() == doctest::Approx(-3.39));
  CHECK(db.execAndGet("SELECT customer_id FROM orders WHERE id = 1000536383").getInt64() == 17850);
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE customer_id = 17850 AND status = 'paid'") == 2);
  CHECK(db.execAndGet("SELECT name FROM products WHERE sku = '71053'").getString() == "WHITE METAL LANTERN, LARGE");
  CHECK(db.execAndGet("SELECT created_at FROM customers WHERE id = 17850").getString() == "2010-12-01T08:26:00");
  CHECK(db.execAndGet("SELECT country FROM customers WHERE id = 12583").getString() == "France");
  // Latin-1 bytes become UTF-8.
  CHECK(db.execAndGet("SELECT name FROM products WHERE sku = '21756'").getString() == "CAF\xC3\x89 SIGN");
  CHECK(db.execAndGet("SELECT email_opt_in FROM customers WHERE id = 12583").isNull());
  CHECK(scalar(db, "SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT id FROM orders)") == 0);
  auto store = crm::engine::SqliteStore::open(db_file.str());
  auto loaded = store.load_facts("Europe/London");
  for (const auto& w : loaded.warnings) MESSAGE(w);
  CHECK(loaded.warnings.empty());
  CHECK(loaded.facts.rows() == 4);
}

TEST_CASE("sample: the importer rejects a file that is not the Online Retail CSV") {
  TempDb db_file("retail_bad");
  std::string csv = (fs::temp_directory_path() / ("crm_test_retail_bad_" + std::to_string(::getpid()) + ".csv")).string();
  write_gzip(csv, "a,b,c\n1,2,3\n");
  CHECK_THROWS_WITH_AS(crm::examples::import_online_retail(db_file.str(), csv),
                       doctest::Contains("missing column 'InvoiceNo'"), std::runtime_error);
  CHECK_THROWS_AS(crm::examples::import_online_retail(db_file.str(), csv + ".missing"), std::runtime_error);
  fs::remove(csv);
}

TEST_CASE("sample: orders_per_customer scales repeat buying, deterministically") {
  TempDb a("opc_a"), b("opc_b");
  ShopOptions o = small(5000, 1);
  o.orders_per_customer = 10;
  auto ca = generate_shop(a.str(), o);
  auto cb = generate_shop(b.str(), o);
  CHECK(ca.orders == cb.orders);
  CHECK(shop_checksum(a.str()) == shop_checksum(b.str()));
  double per_customer = static_cast<double>(ca.orders) / static_cast<double>(ca.customers);
  CHECK(per_customer > 9.0);
  CHECK(per_customer < 11.0);
  SQLite::Database db(a.str());
  // Still bounded by the history: no order after as_of.
  CHECK(scalar(db, "SELECT count(*) FROM orders WHERE ordered_at > '2026-11-24T23:59:59'") == 0);
  TempDb bad("opc_bad");
  o.orders_per_customer = -1;
  CHECK_THROWS(generate_shop(bad.str(), o));
}
