// Unit tests of outcomes (engine/report/outcomes.*): the interval arithmetic, the arms of a
// hand-made store, and the property test: stores generated with a planted uplift (treated
// customers buy with a known extra probability) are measured within the interval.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "engine/graph/rule_graph.hpp"
#include "engine/report/outcomes.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"
#include "engine/store/sqlite_store.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

// A store built from SQL and a script, run as a dry run over [from, to] into outcomes.
struct OutcomeWorld {
  std::string dir;
  lang::CheckedProgram program;
  lang::Diagnostics diags;
  RuleGraph graph;
  std::unique_ptr<Program> compiled;
  Facts facts;
  std::unordered_map<int64_t, std::string> coupons;

  OutcomeWorld(const std::string& sql, const std::string& script) {
    char tmpl[] = "/tmp/crm_outcomes_test_XXXXXX";
    dir = mkdtemp(tmpl);
    {
      SqliteStore s = SqliteStore::open(dir + "/shop.db", true);
      s.db().exec(sql);
      facts = std::move(s.load_facts(TimeZone()).facts);
      for (auto& [id, c] : s.order_coupons()) coupons.emplace(id, c);
    }
    std::ofstream(dir + "/script.crm") << script;
    lang::CheckOptions options;
    options.has_store = true;
    program = lang::load_and_check({dir + "/script.crm"}, options, diags);
    REQUIRE_MESSAGE(!diags.has_errors(), "script errors");
    graph = build_rule_graph(program, diags);
    compiled = std::make_unique<Program>(compile_program(program, diags));
    REQUIRE(!diags.has_errors());
  }
  ~OutcomeWorld() { std::filesystem::remove_all(dir); }

  OutcomesResult measure(Days from, Days to, int window, int64_t min_customers) {
    OutcomesAccumulator acc(program, facts, from, to);
    for (const auto& e : facts.outbox) acc.add_outbox(e);
    Runner runner(program, graph, *compiled, facts);
    runner.set_render_subjects(false);
    SimulateOptions o;
    o.from = from;
    o.to = to;
    o.on_day = [&](Days, const std::vector<ActionOut>& actions) {
      for (const auto& a : actions) acc.add(a);
    };
    simulate(runner, program, facts, o);
    return acc.finish(window, min_customers, &coupons);
  }
};

const char* kPromo = R"(
message promo via email
rule promo: when purchase_count >= 1 then send promo, grant coupon back10 holdout 50%
)";

// Customers 1..n, each with one paid order on 2026-01-10; after the promo on 2026-02-01 each
// buys (once, on a day 1..30 later, total 20..180) with probability `base`, plus `extra` when
// the holdout hash treats them. Returns the SQL.
std::string planted_store(uint64_t seed, int n, double base, double extra) {
  std::seed_seq seq{seed};
  std::mt19937_64 rng(seq);
  std::uniform_real_distribution<double> u(0, 1);
  std::string sql = "BEGIN;\n";
  int64_t order = 1;
  const Days promo = day("2026-02-01");
  for (int c = 1; c <= n; ++c) {
    sql += fmt::format(
        "INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES ({0}, 'c{0}', 'c{0}@example.com', "
        "'2025-06-01', 1);\n",
        c);
    sql += fmt::format("INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES ({}, {}, "
                       "'2026-01-10T10:00:00Z', 50, 'paid');\n",
                       order++, c);
    bool treated = !held_out("promo", c, 50);
    if (u(rng) < base + (treated ? extra : 0)) {
      Days d = promo + 1 + static_cast<Days>(rng() % 30);
      double total = 20 + std::floor(u(rng) * 160);
      sql += fmt::format("INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES ({}, {}, '{}T12:00:00Z', "
                         "{}, 'paid');\n",
                         order++, c, format_date(d), total);
    }
  }
  return sql + "COMMIT;\n";
}

}  // namespace

TEST_CASE("outcomes: the 0.975 t quantile and the intervals") {
  CHECK(t975(5) == doctest::Approx(2.571).epsilon(0.005));
  CHECK(t975(10) == doctest::Approx(2.228).epsilon(0.002));
  CHECK(t975(30) == doctest::Approx(2.042).epsilon(0.001));
  CHECK(t975(1e9) == doctest::Approx(1.96).epsilon(0.001));
  // 0.3 - 0.2; Agresti–Caffo: 31/102 - 21/102, se = sqrt(q1(1-q1)/102 + q2(1-q2)/102).
  Uplift p = proportion_uplift(30, 100, 20, 100);
  CHECK(p.diff == doctest::Approx(0.1));
  double q1 = 31.0 / 102, q2 = 21.0 / 102, se = std::sqrt(q1 * (1 - q1) / 102 + q2 * (1 - q2) / 102);
  CHECK(p.low == doctest::Approx(q1 - q2 - 1.959964 * se));
  CHECK(p.high == doctest::Approx(q1 - q2 + 1.959964 * se));
  CHECK(!p.significant());
  Uplift none = proportion_uplift(0, 50, 0, 50);
  CHECK(none.diff == 0);
  CHECK(!none.significant());
  // Means 2 and 1, each with variance 1, n = 50: se = sqrt(2/50) = 0.2, df = 98.
  double s1 = 100, sq1 = 49 + 50 * 4, s2 = 50, sq2 = 49 + 50 * 1;
  Uplift w = welch_uplift(s1, sq1, 50, s2, sq2, 50);
  CHECK(w.diff == doctest::Approx(1));
  CHECK(w.high - w.diff == doctest::Approx(t975(98) * 0.2).epsilon(0.001));
  CHECK(w.significant());
}

TEST_CASE("outcomes: arms, window edges, F2, coupons and the minimum") {
  // Customer ids chosen by the hash: find two treated and two held out for rule "promo" at 50%.
  std::vector<int64_t> treated, held;
  for (int64_t c = 1; treated.size() < 2 || held.size() < 2; ++c) {
    auto& arm = held_out("promo", c, 50) ? held : treated;
    if (arm.size() < 2) arm.push_back(c);
  }
  std::string sql = "ALTER TABLE orders ADD COLUMN coupon TEXT;\n";
  int64_t order = 1;
  auto cust = [&](int64_t c) {
    sql += fmt::format("INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES ({0}, 'c', 'c@x', '2025-01-01', 1);\n", c);
    sql += fmt::format("INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES ({}, {}, '2026-01-10T10:00:00Z', 10, 'paid');\n", order++, c);
  };
  auto buy = [&](int64_t c, const char* date, double total, const char* status = "paid", const char* coupon = nullptr) {
    sql += fmt::format("INSERT INTO orders (id, customer_id, ordered_at, total, status, coupon) VALUES ({}, {}, '{}T10:00:00Z', {}, '{}', {});\n",
                       order++, c, date, total, status, coupon ? fmt::format("'{}'", coupon) : "NULL");
  };
  for (auto c : treated) cust(c);
  for (auto c : held) cust(c);
  buy(treated[0], "2026-03-03", 100, "paid", "back10");  // day 30 after 02-01: inside the window
  buy(treated[1], "2026-03-04", 70);                     // day 31: outside
  buy(treated[1], "2026-02-01", 5);                      // the action's own day: not after it
  buy(held[0], "2026-02-02", 40, "cancelled");           // not paid
  buy(held[1], "2026-02-02", 40);
  OutcomeWorld w(sql, kPromo);
  OutcomesResult r = w.measure(day("2026-02-01"), day("2026-02-01"), 30, 2);
  REQUIRE(r.rows.size() == 1);
  const OutcomeRow& row = r.rows[0];
  CHECK(row.name == "promo");
  CHECK(row.holdout_pct == 50);
  CHECK(row.treated.customers == 2);
  CHECK(row.held_out.customers == 2);
  CHECK(row.treated.converted == 1);
  CHECK(row.treated.orders == 1);
  CHECK(row.treated.revenue == doctest::Approx(100));
  CHECK(row.treated.first_buyers == 1);  // treated[1] had two paid orders by 02-01
  CHECK(row.treated.f2 == 1);
  CHECK(row.held_out.converted == 1);
  CHECK(row.held_out.revenue == doctest::Approx(40));
  CHECK(row.treated.coupon_customers == 2);
  CHECK(row.treated.coupon_redeemed == 1);
  CHECK(row.held_out.coupon_customers == 0);
  CHECK(r.has_coupons);
  REQUIRE(row.conversion);
  CHECK(row.conversion->diff == doctest::Approx(0));
  CHECK(!row.f2);  // one first-time buyer per arm: fewer than 2
  // Above the minimum: no intervals.
  OutcomesResult r3 = w.measure(day("2026-02-01"), day("2026-02-01"), 30, 3);
  CHECK(!r3.rows[0].conversion);
  CHECK(outcomes_text(r3).find("not enough customers to tell") != std::string::npos);
  // A one-day window: only held[1]'s order on 02-02 counts.
  OutcomesResult r1 = w.measure(day("2026-02-01"), day("2026-02-01"), 1, 2);
  CHECK(r1.rows[0].treated.converted == 0);
  CHECK(r1.rows[0].held_out.converted == 1);
  // The outputs carry the same numbers.
  CHECK(outcomes_jsonl(r).find("\"name\":\"promo\",\"kind\":\"rule\",\"holdout_pct\":50") != std::string::npos);
  CHECK(outcomes_csv(r).find("\npromo,rule,50,2,2,1,1,1,1,100.00,40.00,") != std::string::npos);
  CHECK(outcomes_html_section(r).find("<svg") != std::string::npos);
}

TEST_CASE("outcomes property: a planted uplift is recovered, none is found where none was planted") {
  // CRM_OUTCOMES_RUNS=N measures the coverage over more runs (the thresholds stay at 90 %).
  const char* runs_env = std::getenv("CRM_OUTCOMES_RUNS");
  const int kRuns = runs_env ? std::max(1, std::atoi(runs_env)) : 50;
  constexpr int kCustomers = 800;
  constexpr double kBase = 0.25, kExtra = 0.12;
  int covered = 0, covered_revenue = 0, detected = 0, null_quiet = 0, null_quiet_revenue = 0;
  for (int seed = 1; seed <= kRuns; ++seed) {
    {
      OutcomeWorld w(planted_store(static_cast<uint64_t>(seed), kCustomers, kBase, kExtra), kPromo);
      OutcomesResult r = w.measure(day("2026-02-01"), day("2026-02-01"), 30, 30);
      REQUIRE(r.rows.size() == 1);
      const OutcomeRow& row = r.rows[0];
      REQUIRE(row.conversion);
      REQUIRE(row.revenue_per_customer);
      covered += row.conversion->low <= kExtra && kExtra <= row.conversion->high;
      detected += row.conversion->significant();
      // Revenue per customer: the extra buyers spend 20..179 (mean 99.5).
      double planted = kExtra * 99.5;
      covered_revenue += row.revenue_per_customer->low <= planted && planted <= row.revenue_per_customer->high;
    }
    {
      OutcomeWorld w(planted_store(static_cast<uint64_t>(1000 + seed), kCustomers, kBase, 0), kPromo);
      OutcomesResult r = w.measure(day("2026-02-01"), day("2026-02-01"), 30, 30);
      REQUIRE(r.rows.size() == 1);
      null_quiet += !r.rows[0].conversion->significant();
      null_quiet_revenue += !r.rows[0].revenue_per_customer->significant();
    }
  }
  MESSAGE(fmt::format("planted: conversion covered {1}/{0}, revenue covered {2}/{0}, significant {3}/{0}; none planted: "
                      "quiet {4}/{0} (revenue {5}/{0})",
                      kRuns, covered, covered_revenue, detected, null_quiet, null_quiet_revenue));
  const int at_least = (kRuns * 9 + 9) / 10;  // 90 %
  CHECK(covered >= at_least);
  CHECK(covered_revenue >= at_least);
  CHECK(null_quiet >= at_least);
  CHECK(null_quiet_revenue >= at_least);
  CHECK(detected >= (kRuns * 8) / 10);  // 12 points on 400 per arm: the test has the power to see it
}
