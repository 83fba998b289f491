// Unit tests of subject rendering (engine/run/run_internal.hpp): numbers grouped and rounded to
// the currency's digits, null placeholders with and without a fallback, unknown names kept.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/run/run_internal.hpp"
#include "engine/store/currency.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

// The actions of `script` (checked and compiled as crm run does) on 2026-01-03, against `facts`;
// the script is written to DIR/s.crm.
std::vector<ActionOut> run_script(const std::string& dir, const std::string& script, const Facts& facts) {
  std::ofstream(dir + "/s.crm") << script;
  lang::CheckOptions options;
  options.has_store = true;
  lang::Diagnostics diags;
  lang::CheckedProgram program = lang::load_and_check({dir + "/s.crm"}, options, diags);
  REQUIRE(!diags.has_errors());
  RuleGraph graph = build_rule_graph(program, diags);
  Program compiled = compile_program(program, diags);
  Runner runner(program, graph, compiled, facts);
  return runner.evaluate_day(*parse_date("2026-01-03"));
}

}  // namespace

TEST_CASE("subjects: grouped numbers without float noise") {
  CHECK(grouped_number(2790.8599999999997, 2) == "2,790.86");
  CHECK(grouped_number(77183.6, 2) == "77,183.60");
  CHECK(grouped_number(-1234567.5, 2) == "-1,234,567.50");
  CHECK(grouped_number(-0.001, 2) == "0.00");
  CHECK(grouped_number(12, 0) == "12");
  CHECK(grouped_number(1234, 0) == "1,234");
  CHECK(grouped_number(100000, 0) == "100,000");
}

TEST_CASE("subjects: rendered from the day's attributes, with fallbacks for nulls") {
  test::TempDir tmp("subject_test");
  const std::string& dir = tmp.path;
  Facts facts;
  {
    SqliteStore s = SqliteStore::open(dir + "/shop.db", true);
    s.db().exec(R"(
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES (1, 'Aiko', 'a@x', '2025-01-01', 1), (2, NULL, 'b@x', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-01-01T10:00:00Z', 1000.43, 'paid'), (2, 1, '2026-01-02T10:00:00Z', 1790.43, 'paid'),
 (3, 2, '2026-01-02T10:00:00Z', 5, 'paid');)");
    facts = std::move(s.load_facts(TimeZone()).facts);
  }
  auto actions = run_script(dir,
                            "let display_name = coalesce(name, \"valued customer\")\n"
                            "let aov = total_spent / purchase_count\n"
                            "message hi via email subject \"{name|\\\"customer\\\"}: {total_spent} in {purchase_count}, {name}/{display_name}, {aov}\"\n"
                            "rule r: when purchase_count >= 1 then send hi\n",
                            facts);
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].subject() == "Aiko: 2,790.86 in 2, Aiko/Aiko, 1,395.43");
  CHECK(actions[1].subject() == "customer: 5.00 in 1, /valued customer, 5.00");
}

TEST_CASE("subjects: money keeps the store currency's digits") {
  CHECK(currency_digits("JPY") == 0);
  CHECK(currency_digits("GBP") == 2);
  CHECK(currency_digits("USD") == 2);
  CHECK(currency_digits("KWD") == 3);
  CHECK(is_currency_code("JPY"));
  CHECK_FALSE(is_currency_code("yen"));
  for (auto [code, want] : {std::pair<const char*, const char*>{"JPY", "2,791 / 1,395"}, {"GBP", "2,790.86 / 1,395.43"},
                            {"KWD", "2,790.860 / 1,395.430"}, {"", "2,790.86 / 1,395.43"}}) {
    test::TempDir tmp("subject_money");
    const std::string& dir = tmp.path;
    Facts facts;
    {
      SqliteStore s = SqliteStore::open(dir + "/shop.db", true);
      if (*code) s.set_meta_value("currency", code);
      s.db().exec(R"(
INSERT INTO customers (id, name, email, created_at, email_opt_in) VALUES (1, 'Aiko', 'a@x', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-01-01T10:00:00Z', 1000.43, 'paid'), (2, 1, '2026-01-02T10:00:00Z', 1790.43, 'paid');)");
      facts = std::move(s.load_facts(TimeZone()).facts);
    }
    CHECK(facts.currency == code);
    auto actions = run_script(dir,
                              "let aov = total_spent / purchase_count\n"
                              "message hi via email subject \"{total_spent} / {aov|'-'}\"\n"
                              "rule r: when purchase_count >= 1 then send hi\n",
                              facts);
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].subject() == want);
  }
}

TEST_CASE("subjects: halves round away from zero") {
  CHECK(grouped_number(1080.5, 0) == "1,081");
  CHECK(grouped_number(-1080.5, 0) == "-1,081");
  CHECK(grouped_number(0.125, 2) == "0.13");
  CHECK(grouped_number(2.5, 0) == "3");
}
