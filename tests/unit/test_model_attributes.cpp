// The lifetime-model attributes of a frame (engine/frame/model_attributes.cpp): null without a
// model or a purchase, the values of the model functions on the customer's (x, t_x, T) as of the
// day, the choice of the model by as_of (strictly before the day in a simulation), and
// recommended(N) against engine/model's recommend_next on the same store.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "engine/frame/attributes.hpp"
#include "engine/frame/model_attributes.hpp"
#include "engine/model/model_store.hpp"
#include "engine/model/next_purchase.hpp"
#include "engine/store/sqlite_session.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

// A store file in a fresh temporary directory, removed at the end.
struct TempDir {
  test::TempDir dir{"model_attr"};
  std::string path = dir.file("shop.db");
};

// Customer 1: paid purchase days 01-01, 01-11 (two orders: one day), 02-10, a refund; customer 2:
// one purchase; customer 3: none. Two BG/NBD models (days), as_of 02-15 and 03-01, and a
// Gamma-Gamma model as_of 02-15.
const char* kShop = R"sql(
  INSERT INTO customers (id, name) VALUES (1, 'A'), (2, 'B'), (3, 'C');
  INSERT INTO products (id, sku) VALUES (1, 'SOAP'), (2, 'CREAM'), (3, 'OIL');
  INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
    (1, 1, '2024-01-01T10:00:00', 1000, 'paid'), (2, 1, '2024-01-11T10:00:00', 300, 'paid'),
    (3, 1, '2024-01-11T18:00:00', 200, 'paid'), (4, 1, '2024-02-10T10:00:00', 1500, 'paid'),
    (5, 1, '2024-02-12T10:00:00', 9999, 'refunded'), (6, 2, '2024-01-20T10:00:00', 800, 'paid'),
    (7, 2, '2024-01-25T10:00:00', 800, 'paid');
  INSERT INTO order_items (order_id, product_id, quantity, price) VALUES
    (1, 1, 1, 1000), (2, 2, 1, 300), (3, 3, 1, 200), (4, 1, 1, 1500), (5, 3, 1, 9999), (6, 1, 1, 800), (7, 2, 1, 800);
)sql";

const char* kModels = R"sql(
  CREATE TABLE models (name TEXT NOT NULL, as_of TEXT NOT NULL, params TEXT NOT NULL, log_likelihood REAL, fitted_at TEXT NOT NULL);
  INSERT INTO models VALUES
    ('bgnbd', '2024-02-15', '{"r":0.5,"alpha":20,"a":0.8,"b":2.5,"unit":"days"}', 0, '2024-02-15T00:00:00Z'),
    ('bgnbd', '2024-03-01', '{"r":0.5,"alpha":20,"a":50,"b":1.5,"unit":"days"}', 0, '2024-03-01T00:00:00Z'),
    ('gamma_gamma', '2024-02-15', '{"p":6,"q":4,"gamma":15}', 0, '2024-02-15T00:00:00Z');
)sql";

Facts load(const TempDir& t, bool models) {
  SqliteStore s = SqliteStore::open(t.path, true);
  s.db().exec(kShop);
  if (models) s.db().exec(kModels);
  return s.load_facts("UTC").facts;
}

const Column& col(const Frame& f, const std::string& name) {
  const Column* c = f.column(name);
  REQUIRE_MESSAGE(c != nullptr, name);
  return *c;
}

}  // namespace

TEST_CASE("lifetime attributes are null without a fitted model, and for customers without a purchase") {
  TempDir t;
  Facts f = load(t, false);
  Frame fr = compute_frame(f, day("2024-03-10"), {"p_alive", "expected_order_value", "expected_purchases(30)", "predicted_clv(12)"});
  for (const char* name : {"p_alive", "expected_order_value", "expected_purchases(30)", "predicted_clv(12)"})
    for (size_t r = 0; r < 3; ++r) CHECK_MESSAGE(col(fr, name).valid[r] == 0, name);
}

TEST_CASE("lifetime attributes are the model functions on (x, t_x, T) as of the day") {
  TempDir t;
  Facts f = load(t, true);
  const Days d = day("2024-02-20");
  Frame fr = compute_frame(f, d, {"p_alive", "expected_order_value", "expected_purchases(30)", "predicted_clv(12)",
                                  "predicted_clv(12,0.1)"});
  // The model as of 02-20 is the first BG/NBD (as_of 02-15), the Gamma-Gamma of 02-15.
  auto m = model::pick_models(f.models, d);
  REQUIRE(m);
  CHECK(m->bgnbd->a == doctest::Approx(0.8));
  // Customer 1: purchase days 01-01, 01-11, 02-10 -> x = 2, t_x = 40, T = 50; repeat days 500 and 1500.
  RfmRow p = rfm_of(f, 0, d);
  CHECK(p.x == 2);
  CHECK(p.last - p.first == 40);
  CHECK(p.mean == doctest::Approx(1000));
  CHECK(col(fr, "p_alive").f64[0] == doctest::Approx(m->p_alive(2, 40, 50)));
  CHECK(col(fr, "p_alive").f64[0] == doctest::Approx(model::bgnbd_p_alive(*m->bgnbd, 2, 40, 50)));
  CHECK(col(fr, "expected_purchases(30)").f64[0] == doctest::Approx(m->expected_purchases(30, 2, 40, 50)));
  const double eov = model::gamma_gamma_expected_value(*m->gamma_gamma, 2, 1000);
  CHECK(col(fr, "expected_order_value").f64[0] == doctest::Approx(eov));
  CHECK(col(fr, "predicted_clv(12)").f64[0] == doctest::Approx(m->expected_purchases(365.25, 2, 40, 50) * eov));
  // Discounted: less than undiscounted, more than 12 months discounted by the full year.
  CHECK(col(fr, "predicted_clv(12,0.1)").f64[0] < col(fr, "predicted_clv(12)").f64[0]);
  CHECK(col(fr, "predicted_clv(12,0.1)").f64[0] > col(fr, "predicted_clv(12)").f64[0] / 1.1);
  // Customer 2: x = 1, t_x = 5, T = 31. Customer 3: no purchase -> null.
  CHECK(col(fr, "p_alive").f64[1] == doctest::Approx(m->p_alive(1, 5, 31)));
  CHECK(col(fr, "p_alive").valid[2] == 0);
  // A day before the first model: null.
  Frame early = compute_frame(f, day("2024-02-14"), {"p_alive"});
  CHECK(col(early, "p_alive").valid[0] == 0);
}

TEST_CASE("the model of a day: as_of on or before it in a run, strictly before it in a simulation") {
  TempDir t;
  Facts f = load(t, true);
  const Days d = day("2024-03-01");
  const double late = model::pick_models(f.models, d)->p_alive(2, 40, 60);
  CHECK(model::pick_models(f.models, d)->bgnbd->a == doctest::Approx(50));
  CHECK(compute_frame(f, d, {"p_alive"}).column("p_alive")->f64[0] == doctest::Approx(late));
  f.models_strictly_before = true;
  const double early = model::pick_models(f.models, d, true)->p_alive(2, 40, 60);
  CHECK(model::pick_models(f.models, d, true)->bgnbd->a == doctest::Approx(0.8));
  CHECK(early != doctest::Approx(late));
  CHECK(compute_frame(f, d, {"p_alive"}).column("p_alive")->f64[0] == doctest::Approx(early));
  // A FrameCursor moving over the days refills the columns with the day's model.
  FrameCursor cur(f, {"p_alive"});
  cur.advance(day("2024-02-29"), {}, {});
  Frame& fr = cur.advance(d, {}, {});
  CHECK(fr.column("p_alive")->f64[0] == doctest::Approx(early));
  Frame& next = cur.advance(d + 1, {}, {});
  CHECK(next.column("p_alive")->f64[0] == doctest::Approx(model::pick_models(f.models, d + 1, true)->p_alive(2, 40, 61)));
  CHECK(model::pick_models(f.models, d + 1, true)->bgnbd->a == doctest::Approx(50));
}

TEST_CASE("recommended(N) agrees with recommend_next on the next-purchase table of the days before") {
  TempDir t;
  Facts f = load(t, false);
  const Days d = day("2024-02-20");
  auto lists = recommend_all(f, d, 3);
  SQLite::Database raw_db(t.path);
  engine::SqliteSession db(raw_db.getHandle());
  auto table = model::next_purchase_table(db, model::ProductKey::sku, d - 1);
  // Customer 1's last purchase (02-10) held SOAP, 10 days ago; customer 2's (01-25) CREAM, 26 days.
  auto want1 = model::recommend_next(table, {"SOAP"}, 10, 3);
  auto want2 = model::recommend_next(table, {"CREAM"}, 26, 3);
  auto names = [&](const std::vector<int64_t>& ids) {
    std::vector<std::string> out;
    for (auto id : ids) out.emplace_back(f.strings->get(id));
    return out;
  };
  CHECK(names(lists[0]) == want1);
  CHECK(names(lists[1]) == want2);
  CHECK(!want1.empty());
  CHECK(lists[2].empty());
  Frame fr = compute_frame(f, d, {"recommended(3)"});
  const Column& c = col(fr, "recommended(3)");
  CHECK(c.list_offsets[1] - c.list_offsets[0] == lists[0].size());
}

TEST_CASE("lifetime attributes on a store large enough for two threads equal the formula row by row") {
  TempDir t;
  {
    SqliteStore s = SqliteStore::open(t.path, true);
    // 60,000 customers (above kParallelRows), 1 to 3 paid purchase days each.
    s.db().exec(R"sql(
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
      INSERT INTO customers (id, name) SELECT i, 'c' || i FROM n;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT id, id, date('2024-01-01', '+' || (id % 40) || ' days') || 'T10:00:00', 100 + id % 7, 'paid' FROM customers;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT 100000 + id, id, date('2024-01-01', '+' || (40 + id % 30) || ' days') || 'T10:00:00', 200, 'paid'
        FROM customers WHERE id % 3 <> 0;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT 200000 + id, id, date('2024-01-01', '+' || (70 + id % 11) || ' days') || 'T10:00:00', 300, 'paid'
        FROM customers WHERE id % 5 = 0;
    )sql");
    s.db().exec(kModels);
  }
  Facts f = SqliteStore::open(t.path, true).load_facts("UTC").facts;
  REQUIRE(f.rows() >= kParallelRows);
  const Days d = day("2024-04-01");
  Frame fr = compute_frame(f, d, {"p_alive", "expected_purchases(30)"});
  auto m = model::pick_models(f.models, d);
  REQUIRE(m);
  size_t mismatches = 0;
  for (size_t r = 0; r < f.rows(); ++r) {
    RfmRow h = rfm_of(f, r, d);
    const double pa = m->p_alive(h.x, h.last - h.first, d - h.first);
    const double ep = m->expected_purchases(30, h.x, h.last - h.first, d - h.first);
    if (col(fr, "p_alive").valid[r] != 1 || col(fr, "p_alive").f64[r] != pa) ++mismatches;
    if (col(fr, "expected_purchases(30)").valid[r] != 1 || col(fr, "expected_purchases(30)").f64[r] != ep) ++mismatches;
  }
  CHECK(mismatches == 0);
}

namespace {

// 61,000 customers (above kParallelRows, so two threads) with 1 to 3 paid purchase days between
// 2024-01-01 and 2024-03-21, and the models of `models_sql`.
Facts big_store(const TempDir& t, const char* models_sql) {
  {
    SqliteStore s = SqliteStore::open(t.path, true);
    s.db().exec(R"sql(
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 61000)
      INSERT INTO customers (id, name) SELECT i, 'c' || i FROM n;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT id, id, date('2024-01-01', '+' || (CASE WHEN id > 60000 THEN 58 + id % 20 ELSE id % 40 END) || ' days') || 'T10:00:00',
               100 + id % 7, 'paid' FROM customers;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT 100000 + id, id, date('2024-01-01', '+' || (40 + id % 30) || ' days') || 'T10:00:00', 200, 'paid'
        FROM customers WHERE id % 3 <> 0;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT 200000 + id, id, date('2024-01-01', '+' || (70 + id % 11) || ' days') || 'T10:00:00', 300 + id % 13, 'paid'
        FROM customers WHERE id % 5 = 0;
      INSERT INTO orders (id, customer_id, ordered_at, total, status)
        SELECT 300000 + id, id, date('2024-01-01', '+' || (72 + id % 5) || ' days') || 'T10:00:00', 999, 'refunded'
        FROM customers WHERE id % 7 = 0;
    )sql");
    s.db().exec(models_sql);
  }
  return SqliteStore::open(t.path, true).load_facts("UTC").facts;
}

const std::vector<std::string> kModelCols{"p_alive", "expected_order_value", "expected_purchases(30)", "predicted_clv(12)",
                                          "predicted_clv(6,0.1)"};

// Every model column of `fr` as of `d` against LifetimeModels' functions on rfm_of, row by row,
// exactly (the frame hoists per-day constants but must compute the same numbers); the mismatches.
size_t formula_mismatches(const Facts& f, const Frame& fr, Days d) {
  auto m = model::pick_models(f.models, d, f.models_strictly_before);
  REQUIRE(m);
  const double monthly = std::pow(1 + 0.1, 1.0 / 12) - 1;
  size_t bad = 0;
  std::map<std::string, const Column*> cols;
  for (const auto& name : kModelCols) cols[name] = &col(fr, name);
  auto check = [&](const char* name, size_t r, double want) {
    const Column& c = *cols.at(name);
    const bool valid = std::isfinite(want);
    if (c.valid[r] != (valid ? 1 : 0) || (valid && c.f64[r] != want)) ++bad;
  };
  for (size_t r = 0; r < f.rows(); ++r) {
    RfmRow h = rfm_of(f, r, d);
    if (h.first == kNoDay) {
      for (const auto& name : kModelCols) check(name.c_str(), r, NAN);
      continue;
    }
    const double x = h.x, t_x = h.last - h.first, T = d - h.first;
    const double eov = m->expected_order_value(x, h.mean);
    check("p_alive", r, m->p_alive(x, t_x, T));
    check("expected_order_value", r, eov);
    check("expected_purchases(30)", r, m->expected_purchases(30, x, t_x, T));
    check("predicted_clv(12)", r, m->expected_purchases(12 * (365.25 / 12), x, t_x, T) * eov);
    double prev = 0, sum = 0;
    for (int k = 1; k <= 6; ++k) {
      double cum = m->expected_purchases(k * (365.25 / 12), x, t_x, T);
      sum += (cum - prev) / std::pow(1 + monthly, k);
      prev = cum;
    }
    check("predicted_clv(6,0.1)", r, sum * eov);
  }
  return bad;
}

// The cursor over `days` (ascending) against the formula and against compute_frame, every day.
void check_cursor_days(const Facts& f, const std::vector<Days>& days) {
  FrameCursor cur(f, kModelCols);
  for (Days d : days) {
    Frame& fr = cur.advance(d, {}, {});
    CAPTURE(format_date(d));
    CHECK(formula_mismatches(f, fr, d) == 0);
    Frame full = compute_frame(f, d, kModelCols);
    for (const auto& name : kModelCols) {
      CHECK_MESSAGE(col(fr, name).valid == col(full, name).valid, name);
      CHECK_MESSAGE(col(fr, name).f64 == col(full, name).f64, name);
    }
  }
}

}  // namespace

TEST_CASE("a FrameCursor's model columns over several days with purchases equal the formula row by row") {
  TempDir t;
  Facts f = big_store(t, kModels);
  REQUIRE(f.rows() >= kParallelRows);
  // Day by day through the second and third purchases (the BG/NBD model changes on 03-01), a
  // jump of several days, then a day back (a full build).
  const Days d0 = day("2024-02-27");
  check_cursor_days(f, {d0, d0 + 1, d0 + 2, d0 + 3, d0 + 12, d0 + 13, d0 + 14, d0 + 22, d0 + 40, d0 + 5, d0 + 6});
}

TEST_CASE("with a Pareto/NBD model only, a FrameCursor's model columns equal the formula row by row") {
  TempDir t;
  Facts f = big_store(t, R"sql(
    CREATE TABLE models (name TEXT NOT NULL, as_of TEXT NOT NULL, params TEXT NOT NULL, log_likelihood REAL, fitted_at TEXT NOT NULL);
    INSERT INTO models VALUES
      ('pareto_nbd', '2024-02-15', '{"r":0.6,"alpha":15,"s":0.7,"beta":30,"unit":"days"}', 0, '2024-02-15T00:00:00Z'),
      ('gamma_gamma', '2024-02-15', '{"p":6,"q":4,"gamma":15}', 0, '2024-02-15T00:00:00Z');
  )sql");
  const Days d0 = day("2024-03-10");
  check_cursor_days(f, {d0, d0 + 1, d0 + 4});
}
