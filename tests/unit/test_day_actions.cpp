// A day's actions on a store of several evaluation batches: settling rows batch by batch in the
// last stage (scripts without event rules) gives the same actions as settling the whole day at
// the end (with an event rule), and the lean ActionOut's views (dedupe value, points amount)
// stay valid while the Runner lives, across later days; a dry run's stream_day hands over the
// same actions in the same order, in chunks, and the tags written by the last stage reach the
// next day though that stage no longer rewrites the frame's tags column.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "engine/eval/program.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

// 5,000 customers (more than two batches of kBatchRows) with orders on a few days.
const char* kSql = R"(
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO customers (id, name, email, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in)
SELECT i, 'c' || i, 'c' || i || '@example.com', '2025-01-01', i % 3 != 0, i % 2, 0, 0, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO orders (id, customer_id, ordered_at, total, status)
SELECT i, i, '2026-0' || (1 + i % 3) || '-1' || (i % 10) || 'T10:00:00Z', 100 * (i % 37), 'paid' FROM n WHERE i % 4 != 0;
)";

// Two stages (big_spender is tagged, then read), caps across rules, `once per`, `every` with a
// points amount per customer, holdout, and `after` within the day.
const char* kScript = R"(
message hello via email
message nudge via line
message extra via email
rule big_spender: when total_spent >= 2000 and not has_tag("big") then tag big
rule big_mail: when has_tag("big") then send extra once priority 3
rule hello: when purchase_count >= 1 then send hello, grant points total_spent / 10 every 3 days
rule nudge: when days_since >= 0 then send nudge once per purchase_count holdout 20%
rule after_hello: when true then send extra
  after hello
limit 2 email per 7 days
)";

// A third stage that reads and writes tags (the last stage writes tags): `late` is set in stage
// two and taken away in stage three, which the next days must see.
const char* kLastStageTags = R"(
rule tag_late: when has_tag("big") and purchase_count >= 1 then tag late once
rule late_mail: when has_tag("late") then send hello, untag late once
)";

// The same, plus an event rule that never fires (no cancel requests): the day is settled at the end.
const char* kEventRule = R"(
rule on_cancel:
  on cancel_request
  when true
  then send nudge
)";

struct World {
  test::TempDir dir;
  lang::CheckedProgram program;
  lang::Diagnostics diags;
  RuleGraph graph;
  std::unique_ptr<Program> compiled;
  Facts facts;

  explicit World(const std::string& script) {
    {
      SqliteStore s = SqliteStore::open(dir.path + "/shop.db", true);
      s.db().exec(kSql);
      facts = std::move(s.load_facts(TimeZone()).facts);
    }
    std::ofstream(dir.path + "/script.crm") << script;
    lang::CheckOptions options;
    options.has_store = true;
    program = lang::load_and_check({dir.path + "/script.crm"}, options, diags);
    REQUIRE_MESSAGE(!diags.has_errors(), "script errors");
    graph = build_rule_graph(program, diags);
    compiled = std::make_unique<Program>(compile_program(program, diags));
    REQUIRE(!diags.has_errors());
  }
};

// The actions of days [from, to] as JSON lines with the dedupe value.
std::string lines(const std::vector<ActionOut>& actions) {
  std::string out;
  for (const auto& a : actions) out += to_json_line(a) + " " + std::string(a.dedupe) + "\n";
  return out;
}

}  // namespace

TEST_CASE("day actions: settled by batch or at the end of the day, the same actions in the same order") {
  World by_batch(kScript), at_end(std::string(kScript) + kEventRule);
  REQUIRE(by_batch.facts.rows() > 2 * kBatchRows);
  Runner a(by_batch.program, by_batch.graph, *by_batch.compiled, by_batch.facts);
  Runner b(at_end.program, at_end.graph, *at_end.compiled, at_end.facts);
  size_t total = 0;
  for (Days d = day("2026-03-01"); d <= day("2026-03-08"); ++d) {
    std::vector<ActionOut> x = a.evaluate_day(d), y = b.evaluate_day(d);
    total += x.size();
    CHECK(lines(x) == lines(y));
    for (size_t k = 1; k < x.size(); ++k) CHECK(x[k - 1].customer <= x[k].customer);
  }
  CHECK(total > 5000);
}

TEST_CASE("day actions: dedupe values and points amounts stay readable across later days") {
  World w(kScript);
  Runner r(w.program, w.graph, *w.compiled, w.facts);
  std::vector<ActionOut> first = r.evaluate_day(day("2026-03-01"));
  const std::string before = lines(first);
  bool points = false, every = false;
  for (const auto& a : first) {
    if (a.kind == lang::ActionKind::Points) {
      points = true;
      CHECK(!a.target.empty());
    }
    if (a.dedupe == "2026-03-01") every = true;
  }
  CHECK(points);
  CHECK(every);
  for (Days d = day("2026-03-02"); d <= day("2026-03-20"); ++d) r.evaluate_day(d);  // more keys, more amounts
  CHECK(lines(first) == before);
}

TEST_CASE("day actions: stream_day gives evaluate_day's actions in order, in chunks; last-stage tags reach later days") {
  const std::string script = std::string(kScript) + kLastStageTags;
  World streamed(script), listed(script), at_end(script + kEventRule);
  Runner a(streamed.program, streamed.graph, *streamed.compiled, streamed.facts);
  Runner b(listed.program, listed.graph, *listed.compiled, listed.facts);
  Runner c(at_end.program, at_end.graph, *at_end.compiled, at_end.facts);
  size_t chunks = 0, late_mails = 0, total = 0;
  for (Days d = day("2026-03-01"); d <= day("2026-03-06"); ++d) {
    std::string got;
    a.stream_day(d, [&](std::span<const ActionOut> part) {
      ++chunks;
      CHECK(!part.empty());
      for (const auto& x : part) {
        got += to_json_line(x) + " " + std::string(x.dedupe) + "\n";
        late_mails += x.rule_name == "late_mail" && x.kind == lang::ActionKind::Send;
        ++total;
      }
    });
    const std::string want = lines(b.evaluate_day(d));
    CHECK(got == want);
    CHECK(lines(c.evaluate_day(d)) == want);  // with an event rule every stage's tags are applied
  }
  CHECK(total > 5000);
  CHECK(chunks > 6);           // a first day of more than 4,096 actions comes in several chunks
  CHECK(late_mails > 0);
  CHECK(a.history().fire_count() == b.history().fire_count());
}

TEST_CASE("day actions: a day split over threads gives the actions, order and history of one thread") {
  // Two and three ranges of rows (5,000 rows: batches of 2,048), `once per` keys first seen on
  // several threads at once, caps, holdout, points, `after` within the day, tags written in a
  // middle and in the last stage (read the next day), streamed and listed; a tag no rule reads.
  const std::string script = std::string(kScript) + kLastStageTags + "rule mark: when purchase_count >= 1 then tag marked\n";
  World one(script), split(script), split3(script), streamed(script);
  Runner a(one.program, one.graph, *one.compiled, one.facts);
  Runner b(split.program, split.graph, *split.compiled, split.facts);
  Runner c(split3.program, split3.graph, *split3.compiled, split3.facts);
  Runner s(streamed.program, streamed.graph, *streamed.compiled, streamed.facts);
  a.set_threads(1);
  b.set_threads(2, kBatchRows);
  c.set_threads(8, 1);  // at least kBatchRows a thread: 5,000 rows make two ranges
  s.set_threads(2, kBatchRows);
  size_t split_days = 0, total = 0, capped = 0;
  for (Days d = day("2026-03-01"); d <= day("2026-03-12"); ++d) {
    const std::string want = lines(a.evaluate_day(d));
    for (size_t at = want.find("blocked_cap"); at != std::string::npos; at = want.find("blocked_cap", at + 1)) ++capped;
    CHECK(a.last_threads() == 1);
    CHECK(lines(b.evaluate_day(d)) == want);
    CHECK(lines(c.evaluate_day(d)) == want);
    std::string got;
    s.stream_day(d, [&](std::span<const ActionOut> part) {
      for (const auto& x : part) got += to_json_line(x) + " " + std::string(x.dedupe) + "\n";
    });
    CHECK(got == want);
    split_days += b.last_threads() == 2;
    CHECK(c.last_threads() == b.last_threads());
    total += std::count(want.begin(), want.end(), '\n');
  }
  // The first day sets a tag that neither the store nor a has_tag() names ("marked"): it runs on
  // one thread, which interns it; "big" and "late" were interned by has_tag("big"), has_tag("late").
  CHECK(split_days == 11);
  CHECK(total > 10000);
  CHECK(capped > 100);
  CHECK(b.history().fire_count() == a.history().fire_count());
  CHECK(c.history().fire_count() == a.history().fire_count());
}

TEST_CASE("day actions: uneven cuts of a split day give the actions of one thread") {
  // 5,000 rows are three batches: shares of 0.2 / 0.8 cut after the first, 0.8 / 0.2 after the
  // second (then each day's cut follows the threads' times). Every stage of a day must use the
  // day's cut: a row's candidates wait in its thread's pool for the last stage.
  const std::string script = std::string(kScript) + kLastStageTags;
  World one(script), left(script), right(script);
  Runner a(one.program, one.graph, *one.compiled, one.facts);
  Runner l(left.program, left.graph, *left.compiled, left.facts);
  Runner r(right.program, right.graph, *right.compiled, right.facts);
  a.set_threads(1);
  l.set_threads(2, kBatchRows);
  r.set_threads(2, kBatchRows);
  size_t split_days = 0;
  for (Days d = day("2026-03-01"); d <= day("2026-03-08"); ++d) {
    l.set_split_shares({1, 4});  // scaled: 0.2 / 0.8
    r.set_split_shares({0.8, 0.2});
    r.set_split_shares({-1, 2});  // ignored
    const std::string want = lines(a.evaluate_day(d));
    CHECK(lines(l.evaluate_day(d)) == want);
    CHECK(lines(r.evaluate_day(d)) == want);
    split_days += l.last_threads() == 2 && r.last_threads() == 2;
  }
  CHECK(split_days == 8);
  CHECK(l.history().fire_count() == a.history().fire_count());
  CHECK(r.history().fire_count() == a.history().fire_count());
}
