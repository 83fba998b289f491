// Unit tests of compute_frame: every builtin customer attribute as of several dates, over a
// small store built with SQL, plus the date helpers (age, birthdays, months).
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/store/sqlite_store.hpp"
#include "lang/builtins.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

struct TempStore {
  std::string dir;
  std::string path;
  TempStore() {
    char tmpl[] = "/tmp/crm_attr_test_XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/shop.db";
  }
  ~TempStore() { std::filesystem::remove_all(dir); }
};

// Customer 1: paid, cancelled, refunded, paid orders; a subscription; surveys; referrals; tags.
// Customer 2: no orders, birthday 29 February. Customer 3: signs up later.
const char* kShop = R"sql(
  ALTER TABLE customers ADD COLUMN plan TEXT;
  INSERT INTO customers (id, name, email, birthday, created_at, email_opt_in, line_opt_in, referred_by, plan) VALUES
    (1, 'Aiko', 'aiko@example.jp', '1990-06-15', '2026-01-01T09:00:00+09:00', 1, 0, NULL, 'gold'),
    (2, 'Ben', NULL, '2004-02-29', '2026-01-10', NULL, 1, 1, NULL),
    (3, 'Cho', 'cho@example.jp', NULL, '2026-12-01', 0, 0, NULL, 'basic');
  INSERT INTO products (id, sku) VALUES (1, 'SOAP'), (2, 'CREAM'), (3, 'OIL'), (4, 'MASK');
  INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
    (10, 1, '2026-02-01T10:00:00', 1000, 'paid'),
    (11, 1, '2026-02-05T10:00:00', 500, 'cancelled'),
    (12, 1, '2026-02-10T10:00:00', 700, 'refunded'),
    (13, 1, '2026-03-01T10:00:00', 2000.5, 'paid'),
    (14, 1, '2099-01-01T10:00:00', 99, 'paid');
  INSERT INTO order_items (order_id, product_id, quantity, price) VALUES
    (10, 1, 1, 1000), (11, 3, 1, 500), (12, 4, 1, 700), (13, 2, 1, 1000), (13, 1, 1, 1000.5), (14, 3, 1, 99);
  INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles, cancelled_at, cancel_reason) VALUES
    (1, 1, 1, '2026-01-31', 'cancelled', 3, '2026-06-15', 'too expensive');
  INSERT INTO surveys (customer_id, answered_at, satisfaction) VALUES (1, '2026-02-02', 3), (1, '2026-03-02', 5);
  INSERT INTO referrals (referrer_id, referee_id, created_at) VALUES (1, 2, '2026-01-10'), (1, 9, '2026-04-01');
  INSERT INTO tags (customer_id, tag, set_at) VALUES (1, 'vip', '2026-03-01'), (1, 'early', NULL), (2, 'new', '2026-01-10');
)sql";

struct Shop {
  TempStore tmp;
  Facts facts;
  Shop() {
    SqliteStore s = SqliteStore::open(tmp.path, true);
    s.db().exec(kShop);
    auto res = s.load_facts("UTC");
    REQUIRE(res.warnings.empty());
    facts = std::move(res.facts);
  }
};

std::optional<int64_t> ival(const Frame& f, const char* name, size_t row) {
  const Column* c = f.column(name);
  REQUIRE_MESSAGE(c != nullptr, name);
  if (!c->valid[row]) return std::nullopt;
  return c->i64[row];
}

std::optional<double> fval(const Frame& f, const char* name, size_t row) {
  const Column* c = f.column(name);
  REQUIRE_MESSAGE(c != nullptr, name);
  if (!c->valid[row]) return std::nullopt;
  return c->f64[row];
}

std::optional<std::string> sval(const Frame& f, const char* name, size_t row) {
  auto id = ival(f, name, row);
  if (!id) return std::nullopt;
  return std::string(f.strings->get(*id));
}

std::vector<std::string> lval(const Frame& f, const char* name, size_t row) {
  const Column* c = f.column(name);
  REQUIRE_MESSAGE(c != nullptr, name);
  std::vector<std::string> out;
  for (uint32_t i = c->list_offsets[row]; i < c->list_offsets[row + 1]; ++i) out.emplace_back(f.strings->get(c->list_values[i]));
  std::sort(out.begin(), out.end());
  return out;
}

using Strs = std::vector<std::string>;
constexpr std::nullopt_t null = std::nullopt;

}  // namespace

TEST_CASE("attributes: every builtin customer attribute has a column") {
  Shop shop;
  Frame f = compute_frame(shop.facts, day("2026-03-01"));
  for (const auto& a : stdlib::attributes()) {
    if (a.scope != stdlib::Scope::Customer) continue;
    const Column* c = f.column(std::string(a.name));
    REQUIRE_MESSAGE(c != nullptr, a.name);
    CHECK_MESSAGE(c->type == a.type, a.name);
    CHECK(c->valid.size() == f.rows);
  }
  CHECK(f.column("plan") != nullptr);
  CHECK(f.column("order.total") == nullptr);
  CHECK(f.rows == 3);
  CHECK(f.today == day("2026-03-01"));
  CHECK(f.customer_id == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("attributes: only the needed columns are computed") {
  Shop shop;
  Frame f = compute_frame(shop.facts, day("2026-03-01"), {"purchase_count", "plan", "order.total", "my_segment"});
  CHECK(f.columns.size() == 2);
  CHECK(ival(f, "purchase_count", 0) == 2);
  CHECK(sval(f, "plan", 0) == "gold");
  CHECK(sval(f, "plan", 1) == null);
}

TEST_CASE("attributes: purchases before the first order, on its day and after") {
  Shop shop;
  Frame before = compute_frame(shop.facts, day("2026-01-31"));
  CHECK(ival(before, "purchase_count", 0) == 0);
  CHECK(fval(before, "total_spent", 0) == 0.0);
  CHECK(ival(before, "first_purchase_date", 0) == null);
  CHECK(ival(before, "last_purchase_date", 0) == null);
  CHECK(ival(before, "days_since_first_purchase", 0) == null);
  CHECK(ival(before, "days_since_last_purchase", 0) == null);
  CHECK(ival(before, "days_since", 0) == null);
  CHECK(fval(before, "avg_order_value", 0) == null);
  CHECK(lval(before, "purchased", 0).empty());
  CHECK(lval(before, "last_purchased", 0).empty());

  Frame same = compute_frame(shop.facts, day("2026-02-01"));
  CHECK(ival(same, "purchase_count", 0) == 1);
  CHECK(fval(same, "total_spent", 0) == 1000.0);
  CHECK(ival(same, "first_purchase_date", 0) == day("2026-02-01"));
  CHECK(ival(same, "days_since", 0) == 0);
  CHECK(lval(same, "last_purchased", 0) == Strs{"SOAP"});

  // Cancelled and refunded orders are not purchases.
  Frame mid = compute_frame(shop.facts, day("2026-02-20"));
  CHECK(ival(mid, "purchase_count", 0) == 1);
  CHECK(fval(mid, "total_spent", 0) == 1000.0);
  CHECK(ival(mid, "last_purchase_date", 0) == day("2026-02-01"));
  CHECK(ival(mid, "days_since_last_purchase", 0) == 19);
  CHECK(lval(mid, "purchased", 0) == Strs{"SOAP"});

  Frame after = compute_frame(shop.facts, day("2026-03-11"));
  CHECK(ival(after, "purchase_count", 0) == 2);
  CHECK(fval(after, "total_spent", 0) == doctest::Approx(3000.5));
  CHECK(fval(after, "avg_order_value", 0) == doctest::Approx(1500.25));
  CHECK(ival(after, "first_purchase_date", 0) == day("2026-02-01"));
  CHECK(ival(after, "last_purchase_date", 0) == day("2026-03-01"));
  CHECK(ival(after, "days_since_first_purchase", 0) == 38);
  CHECK(ival(after, "days_since_last_purchase", 0) == 10);
  CHECK(ival(after, "days_since", 0) == 10);
  CHECK(lval(after, "purchased", 0) == Strs{"CREAM", "SOAP"});
  CHECK(lval(after, "last_purchased", 0) == Strs{"CREAM", "SOAP"});
  // A customer without orders.
  CHECK(ival(after, "purchase_count", 1) == 0);
  CHECK(ival(after, "days_since", 1) == null);

  // The future order (2099) is ignored until its day.
  Frame far = compute_frame(shop.facts, day("2099-01-01"));
  CHECK(ival(far, "purchase_count", 0) == 3);
  CHECK(lval(far, "last_purchased", 0) == Strs{"OIL"});
  CHECK(lval(far, "purchased", 0) == Strs{"CREAM", "OIL", "SOAP"});
}

TEST_CASE("attributes: customer columns and profile") {
  Shop shop;
  Frame f = compute_frame(shop.facts, day("2026-06-15"));
  CHECK(ival(f, "id", 1) == 2);
  CHECK(sval(f, "name", 0) == "Aiko");
  CHECK(sval(f, "email", 1) == null);
  CHECK(ival(f, "birthday", 0) == day("1990-06-15"));
  CHECK(ival(f, "created_at", 0) == day("2026-01-01"));  // 09:00+09:00 is 00:00 UTC
  CHECK(ival(f, "email_opt_in", 0) == 1);
  CHECK(ival(f, "line_opt_in", 0) == 0);
  CHECK(ival(f, "email_opt_in", 1) == null);
  CHECK(ival(f, "sms_opt_in", 0) == null);
  CHECK(ival(f, "referred_by", 1) == 1);
  CHECK(ival(f, "referred_by", 0) == null);
  CHECK(ival(f, "days_since_signup", 0) == day("2026-06-15") - day("2026-01-01"));
  CHECK(ival(f, "days_since_signup", 2) == null);  // signs up in December
  CHECK_FALSE(shop.facts.exists_on(2, day("2026-06-15")));
  CHECK(shop.facts.exists_on(2, day("2026-12-01")));
  CHECK(ival(f, "age", 0) == 36);  // birthday today
  CHECK(ival(f, "days_until_birthday", 0) == 0);
  CHECK(ival(f, "age", 2) == null);
  CHECK(ival(f, "days_until_birthday", 2) == null);
  Frame next = compute_frame(shop.facts, day("2026-06-16"));
  CHECK(ival(next, "days_until_birthday", 0) == 364);  // 2027 is not a leap year
  CHECK(ival(next, "age", 0) == 36);
  Frame eve = compute_frame(shop.facts, day("2026-06-14"));
  CHECK(ival(eve, "age", 0) == 35);
  CHECK(ival(eve, "days_until_birthday", 0) == 1);
}

TEST_CASE("attributes: a 29 February birthday in leap and other years") {
  Days b = day("2004-02-29");
  // Other years: the birthday is on 28 February.
  CHECK(days_until_birthday(b, day("2026-02-28")) == 0);
  CHECK(days_until_birthday(b, day("2026-02-27")) == 1);
  CHECK(days_until_birthday(b, day("2026-03-01")) == 364);  // next: 2027-02-28
  CHECK(age_on(b, day("2026-02-27")) == 21);
  CHECK(age_on(b, day("2026-02-28")) == 22);
  // Leap years: on 29 February itself.
  CHECK(days_until_birthday(b, day("2028-02-28")) == 1);
  CHECK(days_until_birthday(b, day("2028-02-29")) == 0);
  CHECK(days_until_birthday(b, day("2028-03-01")) == 364);  // next: 2029-02-28
  CHECK(days_until_birthday(b, day("2027-03-01")) == 365);  // next: 2028-02-29
  CHECK(age_on(b, day("2028-02-28")) == 23);
  CHECK(age_on(b, day("2028-02-29")) == 24);
  // The day after an ordinary birthday, before a leap day: 365.
  CHECK(days_until_birthday(day("1990-06-15"), day("2027-06-16")) == 365);
  Shop shop;
  Frame f = compute_frame(shop.facts, day("2026-02-28"));
  CHECK(ival(f, "days_until_birthday", 1) == 0);
  CHECK(ival(f, "age", 1) == 22);
}

TEST_CASE("attributes: subscription as of a date") {
  Shop shop;
  Frame before = compute_frame(shop.facts, day("2026-01-30"));
  CHECK(ival(before, "subscription.active", 0) == 0);
  CHECK(sval(before, "subscription.status", 0) == null);
  CHECK(ival(before, "subscription.months", 0) == null);
  CHECK(ival(before, "subscription.active", 1) == 0);  // never subscribed

  // Started 31 January, cancelled 15 June: live (active) before the cancellation.
  Frame feb = compute_frame(shop.facts, day("2026-02-28"));
  CHECK(ival(feb, "subscription.active", 0) == 1);
  CHECK(sval(feb, "subscription.status", 0) == "active");
  CHECK(ival(feb, "subscription.months", 0) == 1);  // 31 Jan -> 28 Feb (end of month) is a month
  CHECK(ival(feb, "subscription.cycles", 0) == 3);
  CHECK(sval(feb, "subscription.cancel_reason", 0) == null);
  Frame feb27 = compute_frame(shop.facts, day("2026-02-27"));
  CHECK(ival(feb27, "subscription.months", 0) == 0);
  Frame may = compute_frame(shop.facts, day("2026-05-30"));
  CHECK(ival(may, "subscription.months", 0) == 3);

  Frame cancelled = compute_frame(shop.facts, day("2026-09-01"));
  CHECK(ival(cancelled, "subscription.active", 0) == 0);
  CHECK(sval(cancelled, "subscription.status", 0) == "cancelled");
  CHECK(ival(cancelled, "subscription.months", 0) == 4);  // counted up to the cancellation
  CHECK(sval(cancelled, "subscription.cancel_reason", 0) == "too expensive");

  CHECK(whole_months(day("2026-01-15"), day("2026-02-14")) == 0);
  CHECK(whole_months(day("2026-01-15"), day("2026-02-15")) == 1);
  CHECK(whole_months(day("2025-11-30"), day("2026-11-30")) == 12);
  CHECK(whole_months(day("2026-03-01"), day("2026-02-01")) == 0);
}

TEST_CASE("attributes: satisfaction, referral_count and tags as of a date") {
  Shop shop;
  Frame jan = compute_frame(shop.facts, day("2026-01-15"));
  CHECK(ival(jan, "satisfaction", 0) == null);
  CHECK(ival(jan, "referral_count", 0) == 1);
  CHECK(ival(jan, "referral_count", 1) == 0);
  CHECK(lval(jan, "tags", 0) == Strs{"early"});  // null set_at: always set
  CHECK(lval(jan, "tags", 1) == Strs{"new"});
  Frame feb = compute_frame(shop.facts, day("2026-03-01"));
  CHECK(ival(feb, "satisfaction", 0) == 3);
  CHECK(lval(feb, "tags", 0) == Strs{"early", "vip"});
  Frame mar = compute_frame(shop.facts, day("2026-04-01"));
  CHECK(ival(mar, "satisfaction", 0) == 5);
  CHECK(ival(mar, "referral_count", 0) == 2);
  CHECK(lval(mar, "tags", 2).empty());
}

TEST_CASE("attributes: dates follow the store's time zone") {
  TempStore tmp;
  SqliteStore s = SqliteStore::open(tmp.path, true);
  s.db().exec("INSERT INTO customers (id) VALUES (1);"
              "INSERT INTO orders VALUES (1, 1, '2026-11-23T23:30:00Z', 100, 'paid');");
  Facts tokyo = s.load_facts("Asia/Tokyo").facts;
  Facts utc = s.load_facts("UTC").facts;
  CHECK(ival(compute_frame(tokyo, day("2026-11-23")), "purchase_count", 0) == 0);
  CHECK(ival(compute_frame(tokyo, day("2026-11-24")), "purchase_count", 0) == 1);
  CHECK(ival(compute_frame(utc, day("2026-11-23")), "purchase_count", 0) == 1);
}

namespace {

// A synthetic store in memory: `customers` customers with `per` orders each (half paid), two
// SKUs per order, a subscription, and a tag.
Facts synthetic(size_t customers, size_t per) {
  Facts f;
  int64_t skus[8];
  for (int k = 0; k < 8; ++k) skus[k] = f.strings->intern("SKU" + std::to_string(k));
  int64_t active = f.strings->intern("active"), vip = f.strings->intern("vip");
  Days base = day("2024-01-01");
  f.order_offsets.push_back(0);
  f.item_offsets.push_back(0);
  f.sub_offsets.push_back(0);
  f.survey_offsets.assign(customers + 1, 0);
  f.referral_offsets.assign(customers + 1, 0);
  f.tag_offsets.push_back(0);
  for (size_t r = 0; r < customers; ++r) {
    f.customer_id.push_back(static_cast<int64_t>(r + 1));
    f.name.push_back(-1);
    f.email.push_back(-1);
    f.birthday.push_back(day("1980-01-01") + static_cast<Days>(r % 10000));
    f.created_at.push_back(base);
    for (auto& o : f.opt_in) o.push_back(1);
    f.referred_by.push_back(0);
    f.referred_by_valid.push_back(0);
    for (size_t k = 0; k < per; ++k) {
      f.order_id.push_back(static_cast<int64_t>(r * per + k));
      f.order_day.push_back(base + static_cast<Days>(k * 30 + r % 30));
      f.order_total.push_back(1000.0 + static_cast<double>(k));
      f.order_status.push_back(k % 2 ? OrderStatus::Cancelled : OrderStatus::Paid);
      f.item_sku.push_back(skus[(r + k) % 8]);
      f.item_sku.push_back(skus[(r + k + 3) % 8]);
      f.item_offsets.push_back(static_cast<uint32_t>(f.item_sku.size()));
    }
    f.order_offsets.push_back(static_cast<uint32_t>(f.order_id.size()));
    f.sub_start.push_back(base + 5);
    f.sub_status.push_back(active);
    f.sub_cycles.push_back(3);
    f.sub_cycles_valid.push_back(1);
    f.sub_cancelled.push_back(kNoDay);
    f.sub_cancel_reason.push_back(-1);
    f.sub_id.push_back(static_cast<int64_t>(r));
    f.sub_offsets.push_back(static_cast<uint32_t>(f.sub_start.size()));
    f.tag.push_back(vip);
    f.tag_set_at.push_back(base);
    f.tag_offsets.push_back(static_cast<uint32_t>(f.tag.size()));
  }
  return f;
}

}  // namespace

TEST_CASE("attributes: a synthetic store gives consistent columns") {
  Facts f = synthetic(60'000, 4);  // above kParallelRows: the threaded path
  Frame fr = compute_frame(f, day("2024-03-15"));
  // Customer row 0: orders on days 0, 30, 60, 90 after base; paid are k = 0, 2 -> 2024-01-01, 2024-03-01.
  CHECK(ival(fr, "purchase_count", 0) == 2);
  CHECK(ival(fr, "last_purchase_date", 0) == day("2024-03-01"));
  CHECK(lval(fr, "last_purchased", 0) == Strs{"SKU2", "SKU5"});
  CHECK(lval(fr, "purchased", 0) == Strs{"SKU0", "SKU2", "SKU3", "SKU5"});
  size_t last = f.rows() - 1;  // r % 30 == 29: first order on 2024-01-30
  CHECK(ival(fr, "first_purchase_date", last) == day("2024-01-30"));
  CHECK(fr.column("purchased")->list_offsets.back() == fr.column("purchased")->list_values.size());
  CHECK(ival(fr, "subscription.months", last) == 2);
}

// Run explicitly: crm_unit_tests -tc='attributes: bench*' --no-skip
TEST_CASE("attributes: bench 1M customers and 10M orders" * doctest::skip()) {
  Facts f = synthetic(1'000'000, 10);
  auto t0 = std::chrono::steady_clock::now();
  Frame fr = compute_frame(f, day("2024-06-01"));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("compute_frame (all columns): " << ms << " ms");
  t0 = std::chrono::steady_clock::now();
  Frame some = compute_frame(f, day("2024-06-01"), {"purchase_count", "days_since", "total_spent", "tags"});
  auto ms2 = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("compute_frame (4 columns): " << ms2 << " ms");
  CHECK(fr.rows == 1'000'000);
  CHECK(ms < 5000);
}
