// The future purchases of `crm simulate --forecast` (engine/model/forecast.cpp): the draws are
// reproducible from the seed, their mean matches the BG/NBD conditional expectation, and the
// drawn orders are added to the facts with every order index consistent.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "engine/frame/model_attributes.hpp"
#include "engine/lifetime/lifetime_math.hpp"
#include "engine/model/forecast.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

// A store file in a fresh temporary directory, removed at the end.
struct TempDir {
  test::TempDir dir{"forecast"};
  std::string path = dir.file("shop.db");
};

// Customer 1: purchase days 01-01, 01-11, 02-10; customer 2: one purchase; customer 3: none.
Facts load(const TempDir& t) {
  SqliteStore s = SqliteStore::open(t.path, true);
  s.db().exec(R"sql(
    INSERT INTO customers (id, name) VALUES (1, 'A'), (2, 'B'), (3, 'C');
    INSERT INTO products (id, sku) VALUES (1, 'SOAP');
    INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
      (1, 1, '2024-01-01T10:00:00', 1000, 'paid'), (2, 1, '2024-01-11T10:00:00', 500, 'paid'),
      (3, 1, '2024-02-10T10:00:00', 1500, 'paid'), (4, 2, '2024-01-20T10:00:00', 800, 'paid');
    INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (1, 1, 1, 1000), (2, 1, 1, 500), (3, 1, 1, 1500), (4, 1, 1, 800);
  )sql");
  return s.load_facts("UTC").facts;
}

model::LifetimeModels models() {
  model::LifetimeModels m;
  m.unit = model::TimeUnit::days;
  m.as_of = day("2024-02-15");
  m.bgnbd = model::BgNbdParams{2.0, 40.0, 0.8, 2.5};
  m.gamma_gamma = model::GammaGammaParams{6, 4, 15};
  return m;
}

}  // namespace

TEST_CASE("forecast: the same seed draws the same orders, another seed others") {
  TempDir t;
  Facts f = load(t);
  const Days last = day("2024-02-15"), to = last + 365;
  auto a = model::draw_future_orders(f, models(), last, to, 42);
  auto b = model::draw_future_orders(f, models(), last, to, 42);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].row == b[i].row);
    CHECK(a[i].day == b[i].day);
    CHECK(a[i].total == b[i].total);
  }
  bool differs = false;
  for (uint64_t seed = 1; seed < 20 && !differs; ++seed) {
    auto c = model::draw_future_orders(f, models(), last, to, seed);
    differs = c.size() != a.size() || (!c.empty() && (c[0].day != a[0].day || c[0].total != a[0].total));
  }
  CHECK(differs);
  for (const auto& o : a) {
    CHECK(o.row < 2);  // customer 3 never bought: no draw
    CHECK(o.day > last);
    CHECK(o.day <= to);
    CHECK(std::isfinite(o.total));
    CHECK(o.total >= 0);
  }
}

TEST_CASE("forecast: the mean of the draws is the BG/NBD conditional expectation") {
  TempDir t;
  Facts f = load(t);
  const Days last = day("2024-02-15");
  const int horizon = 60, draws = 20000;
  double count[2] = {0, 0};
  for (int s = 0; s < draws; ++s)
    for (const auto& o : model::draw_future_orders(f, models(), last, last + horizon, 1000 + s)) ++count[o.row];
  const model::BgNbdParams p = *models().bgnbd;
  // Customer 1: x = 2, t_x = 40, T = 45; customer 2: x = 0, t_x = 0, T = 26 (days).
  const double e1 = model::bgnbd_expected_purchases(p, horizon, 2, 40, 45);
  const double e2 = model::bgnbd_expected_purchases(p, horizon, 0, 0, 26);
  // At most one purchase a day is kept (the models count purchase days): with these rates
  // (about one purchase in 20 days) that loses well under 5%.
  CHECK(count[0] / draws == doctest::Approx(e1).epsilon(0.06));
  CHECK(count[1] / draws == doctest::Approx(e2).epsilon(0.06));
}

TEST_CASE("forecast: drawn orders join the facts as paid orders, every index consistent") {
  TempDir t;
  Facts f = load(t);
  const Days last = day("2024-02-15");
  std::vector<model::DrawnOrder> drawn = {{0, last + 3, 700}, {0, last + 9, 900}, {1, last + 3, 100}};
  model::add_orders(f, drawn);
  REQUIRE(f.order_id.size() == 7);
  CHECK(f.order_offsets == Offsets{0, 5, 7, 7});
  CHECK(f.item_offsets.size() == 8);
  for (size_t r = 0; r < f.rows(); ++r)
    for (uint32_t o = f.order_offsets[r]; o < f.order_offsets[r + 1]; ++o) CHECK(f.order_row[o] == r);
  auto [b, e] = f.orders_on(last + 3);
  CHECK(e - b == 2);
  auto [b9, e9] = f.orders_on(last + 9);
  REQUIRE(e9 - b9 == 1);
  CHECK(f.order_total[f.orders_by_day[b9]] == 900);
  RfmRow h = rfm_of(f, 0, last + 10);
  CHECK(h.x == 4);
  CHECK(h.last == last + 9);
  CHECK(f.order_id[f.orders_by_day.back()] > 4);  // new ids after the stored ones
}
