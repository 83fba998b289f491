// Unit tests of `crm simulate`'s engine: aggregation of a dry run (counts, reach, cost, samples,
// CSV), equality with run_days' dry run, the KPIs on a hand-made store, and the HTML report's
// escaping and charts.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/report/kpis.hpp"
#include "engine/report/report.hpp"
#include "engine/report/report_html.hpp"
#include "engine/graph/rule_graph.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/report/svg_chart.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

// A store, a script and everything a Runner needs, in a temporary directory.
struct World {
  std::string dir;
  lang::CheckedProgram program;
  lang::Diagnostics diags;
  RuleGraph graph;
  std::unique_ptr<Program> compiled;
  Facts facts;

  World(const std::string& sql, const std::string& script) {
    char tmpl[] = "/tmp/crm_sim_test_XXXXXX";
    dir = mkdtemp(tmpl);
    {
      SqliteStore s = SqliteStore::open(dir + "/shop.db", true);
      s.db().exec(sql);
      facts = std::move(s.load_facts(TimeZone()).facts);
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
  ~World() { std::filesystem::remove_all(dir); }
  Runner runner() const { return Runner(program, graph, *compiled, facts); }
};

const char* kShopSql = R"(
INSERT INTO customers (id, name, email, created_at, email_opt_in, line_opt_in, sms_opt_in, push_opt_in, dm_opt_in) VALUES
 (1, 'Aiko', 'a@example.com', '2025-01-01', 1, 1, 0, 0, 1),
 (2, 'Ben',  'b@example.com', '2025-01-01', 0, 1, 0, 0, 1),
 (3, 'Chie', 'c@example.com', '2025-01-01', 1, 0, 0, 0, 1),
 (4, 'Dan',  'd@example.com', '2026-03-02', 1, 1, 0, 0, 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-01-10T10:00:00Z', 1000, 'paid'),
 (2, 1, '2026-02-15T10:00:00Z', 2000, 'paid'),
 (3, 2, '2026-01-20T10:00:00Z', 500, 'paid'),
 (4, 2, '2026-03-01T10:00:00Z', 700, 'cancelled'),
 (5, 3, '2026-02-01T10:00:00Z', 3000, 'paid'),
 (6, 3, '2026-06-01T10:00:00Z', 4000, 'paid'),
 (7, 1, '2026-03-02T10:00:00Z', 1500, 'paid');
)";

// welcome: email once to everyone who exists (Ben has no email opt-in: blocked_consent).
// card: paper DM with a cost, capped to 1 per 30 days together with the promo (priority decides).
const char* kScript = R"(
message welcome via email
message card via dm cost 120
message promo via dm cost 80
rule welcome: when days_since_signup >= 0 then send welcome
rule card: when purchase_count >= 1 then send card, grant coupon thanks every 2 days priority 5
rule promo: when purchase_count >= 1 then send promo every 2 days
limit 1 dm per 30 days
)";

}  // namespace

TEST_CASE("simulate: counts per day, rule, channel and message; reach, cost and samples") {
  World w(kShopSql, kScript);
  Runner r = w.runner();
  SimulateOptions o;
  o.from = day("2026-03-01");
  o.to = day("2026-03-03");
  size_t days_seen = 0;
  o.on_day = [&](Days, const std::vector<ActionOut>&) { days_seen++; };
  SimulationResult s = simulate(r, w.program, w.facts, o);
  CHECK(days_seen == 3);
  REQUIRE(s.days.size() == 3);
  REQUIRE(s.rules.size() == 3);
  CHECK(s.customers == 4);
  // welcome: day 1 customers 1, 2 (blocked), 3; Dan exists from 03-02. Ben is blocked again on
  // each day (a blocked action does not count as fired).
  const SimRule& welcome = s.rules[0];
  CHECK(welcome.name == "welcome");
  CHECK(welcome.counts[static_cast<size_t>(Status::Sent)] == 3);
  CHECK(welcome.counts[static_cast<size_t>(Status::BlockedConsent)] == 3);
  CHECK(welcome.reached == 3);
  REQUIRE(welcome.samples.size() == 3);
  CHECK(welcome.samples[0].customer == 1);
  CHECK(welcome.samples[2].customer == 4);
  CHECK(welcome.samples[2].date == day("2026-03-02"));
  // card (priority 5) wins the dm cap on 03-01 for customers 1, 2, 3; promo is capped.
  const SimRule& card = s.rules[1];
  CHECK(card.counts[static_cast<size_t>(Status::Sent)] >= 3);
  CHECK(card.reached == 3);
  CHECK(card.by_action.count("send card via dm") == 1);
  CHECK(card.by_action.count("coupon thanks") == 1);
  const SimRule& promo = s.rules[2];
  CHECK(promo.counts[static_cast<size_t>(Status::Sent)] == 0);
  CHECK(promo.counts[static_cast<size_t>(Status::BlockedCap)] > 0);
  CHECK(promo.reached == 0);
  CHECK(promo.samples.empty());
  // Costs: only passed sends count.
  const auto dm = static_cast<size_t>(lang::Channel::Dm);
  CHECK(s.channels[dm].counts[0] == card.by_action.at("send card via dm")[0]);
  CHECK(s.cost == doctest::Approx(120.0 * static_cast<double>(s.channels[dm].counts[0])));
  CHECK(card.cost == doctest::Approx(s.cost));
  REQUIRE(s.messages.size() == 2);  // card (dm) and welcome (email), by name
  CHECK(s.messages[0].name == "card");
  CHECK(s.messages[0].unit_cost == doctest::Approx(120));
  CHECK(s.messages[1].name == "welcome");
  CHECK(s.messages[1].cost == 0);
  // Totals agree with the per-day numbers.
  StatusCounts sum{};
  for (const auto& d : s.days)
    for (size_t k = 0; k < 4; ++k) sum[k] += d.actions[k];
  CHECK(sum == s.total);
  CHECK(s.reached == 4);  // welcome: 1, 3, 4; card: 1, 2, 3
  CHECK(s.touched == 4);
  auto busiest = s.busiest(2);
  REQUIRE(!busiest.empty());
  CHECK(busiest[0]->date == day("2026-03-01"));
}

TEST_CASE("simulate: the actions are exactly those of a dry run_days over the same range") {
  World w(kShopSql, kScript);
  std::string via_run, via_sim;
  {
    Runner r = w.runner();
    RunOptions o;
    o.from = day("2026-02-27");
    o.to = day("2026-03-05");
    o.dry_run = true;
    o.on_action = [&](const ActionOut& a) { via_run += to_json_line(a) + "\n"; };
    run_days(r, nullptr, o);
  }
  {
    Runner r = w.runner();
    SimulateOptions o;
    o.from = day("2026-02-27");
    o.to = day("2026-03-05");
    o.on_day = [&](Days, const std::vector<ActionOut>& actions) {
      for (const auto& a : actions) via_sim += to_json_line(a) + "\n";
    };
    simulate(r, w.program, w.facts, o);
  }
  CHECK(!via_run.empty());
  CHECK(via_sim == via_run);
}

TEST_CASE("simulate: counting and on_day one day behind on a second thread give the same result") {
  World w(kShopSql, kScript);
  auto run = [&](bool overlap, std::string& lines, std::string& evaluated) {
    Runner r = w.runner();
    SimulateOptions o;
    o.from = day("2026-02-27");
    o.to = day("2026-03-05");
    o.overlap = overlap;
    o.on_evaluated = [&](Days d, const std::vector<ActionOut>& actions) {
      evaluated += format_date(d) + " " + std::to_string(actions.size()) + " " + std::to_string(r.last_rows()) + "\n";
    };
    o.on_day = [&](Days d, const std::vector<ActionOut>& actions) {
      lines += format_date(d) + "\n";
      for (const auto& a : actions) lines += to_json_line(a) + " " + std::string(a.dedupe) + "\n";
    };
    return simulate(r, w.program, w.facts, o);
  };
  std::string a_lines, a_eval, b_lines, b_eval;
  SimulationResult a = run(false, a_lines, a_eval), b = run(true, b_lines, b_eval);
  CHECK(a_lines.find("\"status\":\"sent\"") != std::string::npos);
  CHECK(b_lines == a_lines);
  CHECK(b_eval == a_eval);
  CHECK(b.total == a.total);
  CHECK(b.reached == a.reached);
  CHECK(b.touched == a.touched);
  REQUIRE(b.days.size() == a.days.size());
  for (size_t k = 0; k < a.days.size(); ++k) CHECK(b.days[k].actions == a.days[k].actions);
  REQUIRE(b.rules.size() == a.rules.size());
  for (size_t k = 0; k < a.rules.size(); ++k) {
    CHECK(b.rules[k].counts == a.rules[k].counts);
    CHECK(b.rules[k].reached == a.rules[k].reached);
  }
}

TEST_CASE("simulate: an on_day that throws on the second thread stops the simulation with its error") {
  World w(kShopSql, kScript);
  Runner r = w.runner();
  SimulateOptions o;
  o.from = day("2026-02-27");
  o.to = day("2026-03-05");
  o.overlap = true;
  int days = 0;
  o.on_day = [&](Days, const std::vector<ActionOut>&) {
    if (++days == 2) throw std::runtime_error("disk full");
  };
  CHECK_THROWS_WITH(simulate(r, w.program, w.facts, o), "disk full");
  CHECK(days == 2);
}

TEST_CASE("simulate: CSV rows group by date, rule, action, target and channel; fields are quoted") {
  std::vector<ActionOut> actions(4);
  for (auto& a : actions) {
    a.date = day("2026-03-01");
    a.rule = 1;
    a.rule_name = "camp.r";
    a.kind = lang::ActionKind::Send;
    a.target = "welcome";
    a.channel = lang::Channel::Email;
  }
  actions[1].status = Status::BlockedConsent;
  actions[2].kind = lang::ActionKind::Tag;
  actions[2].target = "has,comma \"q\"";
  actions[2].channel.reset();
  actions[3].rule = 0;
  actions[3].rule_name = "first";
  std::string csv = csv_rows(actions);
  CHECK(csv ==
        "2026-03-01,first,send,welcome,email,1,0,0,0\n"
        "2026-03-01,camp.r,send,welcome,email,1,0,1,0\n"
        "2026-03-01,camp.r,tag,\"has,comma \"\"q\"\"\",,1,0,0,0\n");
  CHECK(csv_header() == "date,rule,action,target,channel,sent,held_out,blocked_consent,blocked_cap\n");
}

TEST_CASE("kpis: add_months keeps the day or falls on a shorter month's last day") {
  CHECK(add_months(day("2026-01-31"), 1) == day("2026-02-28"));
  CHECK(add_months(day("2024-01-31"), 1) == day("2024-02-29"));
  CHECK(add_months(day("2026-11-15"), 3) == day("2027-02-15"));
  CHECK(add_months(day("2026-03-10"), 0) == day("2026-03-10"));
  CHECK(add_months(day("2026-03-10"), -3) == day("2025-12-10"));
}

TEST_CASE("kpis: cohorts, F2, repeat, revenue, retention and the period, as of the end date") {
  const char* sql = R"(
INSERT INTO customers (id, name, created_at) VALUES (1, 'a', '2025-01-01'), (2, 'b', '2025-01-01'),
  (3, 'c', '2025-01-01'), (4, 'd', '2025-01-01'), (5, 'e', '2025-01-01');
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2025-03-05T10:00:00Z', 100, 'paid'),
 (2, 1, '2025-04-20T10:00:00Z', 200, 'paid'),
 (3, 1, '2026-05-01T10:00:00Z', 900, 'paid'),
 (4, 2, '2025-03-10T10:00:00Z', 50, 'paid'),
 (5, 2, '2025-03-12T10:00:00Z', 70, 'cancelled'),
 (6, 2, '2025-12-01T10:00:00Z', 80, 'paid'),
 (7, 3, '2025-03-20T10:00:00Z', 10, 'refunded'),
 (8, 3, '2026-02-01T10:00:00Z', 400, 'paid'),
 (9, 4, '2026-02-10T10:00:00Z', 300, 'paid'),
 (10, 4, '2026-03-01T10:00:00Z', 300, 'paid'),
 (11, 5, '2026-02-20T10:00:00Z', 999, 'paid'),
 (12, 5, '2026-09-01T10:00:00Z', 1, 'paid');
)";
  World w(sql, "rule r: when true then tag x\n");
  Kpis k = compute_kpis(w.facts, day("2026-02-01"), day("2026-06-30"));
  // Cohorts: 2025-03 (customers 1, 2), 2026-02 (3, 4, 5). The order dated 2026-09-01 is after
  // the end date: customer 5 has no second purchase yet.
  REQUIRE(k.cohorts.size() == 2);
  const CohortKpi& mar = k.cohorts[0];
  CHECK(mar.label() == "2025-03");
  CHECK(mar.customers == 2);
  CHECK(mar.f2_window == 1);  // customer 1 after 46 days; customer 2 after 266 days
  CHECK(mar.f2_ever == 2);
  CHECK(mar.repeat_year == 2);
  CHECK(mar.f2_window_complete);
  CHECK(mar.year_complete);
  CHECK(mar.revenue_year == doctest::Approx(100 + 200 + 50 + 80));  // 2026-05-01 is after 365 days
  CHECK(mar.retention_observed == 12);
  CHECK(mar.retained[0] == 1);  // April 2025: customer 1
  CHECK(mar.retained[8] == 1);  // December 2025: customer 2
  CHECK(mar.retained[1] == 0);
  const CohortKpi& feb = k.cohorts[1];
  CHECK(feb.label() == "2026-02");
  CHECK(feb.customers == 3);
  CHECK(feb.f2_window == 1);  // customer 4
  CHECK(feb.f2_ever == 1);
  CHECK(feb.f2_window_complete);  // 2026-02-28 + 90 days = 2026-05-29, before the end
  CHECK_FALSE(compute_kpis(w.facts, day("2026-02-01"), day("2026-05-28")).cohorts[1].f2_window_complete);
  CHECK_FALSE(feb.year_complete);
  CHECK(feb.retention_observed == 4);   // March..June 2026 have ended by 2026-06-30
  CHECK(feb.retained[0] == 1);
  // The period 2026-02-01 .. 2026-06-30: orders 3, 8, 9, 10, 11.
  CHECK(k.period.orders == 5);
  CHECK(k.period.revenue == doctest::Approx(900 + 400 + 300 + 300 + 999));
  CHECK(k.period.buyers == 4);
  CHECK(k.period.first_orders == 3);
  CHECK(k.period.repeat_orders == 2);
}

TEST_CASE("kpis: the subscription retention curve and cancellation reasons") {
  const char* sql = R"(
INSERT INTO customers (id, name, created_at) VALUES (1, 'a', '2025-01-01'), (2, 'b', '2025-01-01'), (3, 'c', '2025-01-01'),
  (4, 'd', '2025-01-01');
INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles, cancelled_at, cancel_reason) VALUES
 (1, 1, 1, '2026-01-15', 'active', 3, NULL, NULL),
 (2, 2, 1, '2026-01-20', 'cancelled', 1, '2026-03-01', 'too expensive'),
 (3, 3, 1, '2026-02-10', 'cancelled', 1, '2026-08-01', 'piling up'),
 (4, 4, 1, '2026-03-01', 'cancelled', 0, NULL, '<script>x</script>');
)";
  World w(sql, "rule r: when true then tag x\n");
  Kpis k = compute_kpis(w.facts, day("2026-03-01"), day("2026-04-30"));
  // Subscription 4 was cancelled at an unknown time: left out of the curve.
  CHECK(k.subscriptions_unknown_cancel == 1);
  REQUIRE(k.curve.size() >= 4);
  CHECK(k.curve[0].months == 0);
  CHECK(k.curve[0].observed == 3);
  CHECK(k.curve[0].active == 3);
  CHECK(k.curve[1].observed == 3);   // 02-15, 02-20, 03-10
  CHECK(k.curve[1].active == 3);     // 2 cancels on 03-01, after 02-20
  CHECK(k.curve[2].observed == 3);   // 03-15, 03-20, 04-10
  CHECK(k.curve[2].active == 2);
  CHECK(k.curve[3].observed == 2);   // 04-15, 04-20 (05-10 is after the end)
  CHECK(k.curve[3].active == 1);
  // Subscription 3 cancels on 08-01, after the end date: still live, not a cancellation yet.
  REQUIRE(k.reasons.size() == 2);
  int64_t total = 0;
  for (const auto& r : k.reasons) total += r.total;
  CHECK(total == 2);
  CHECK(k.period.cancellations == 1);
  CHECK(k.period.new_subscriptions == 1);
  CHECK(k.period.active_subscriptions_end == 2);  // 1 and 3
}

TEST_CASE("report: number formats") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(1234567) == "1,234,567");
  CHECK(format_count(-1000) == "-1,000");
  CHECK(format_money(120) == "120");
  CHECK(format_money(1234.5) == "1,234.50");
  CHECK(format_pct(1, 4) == "25.0%");
  CHECK(format_pct(1, 0) == "-");
  CHECK(html_escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST_CASE("report: the HTML is self-contained, has its charts, and escapes store data and paths") {
  const char* sql = R"(
INSERT INTO customers (id, name, created_at, email_opt_in) VALUES (1, 'a', '2025-01-01', 1), (2, 'b', '2025-01-01', 1);
INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
 (1, 1, '2026-01-10T10:00:00Z', 100, 'paid'), (2, 1, '2026-02-10T10:00:00Z', 100, 'paid'),
 (3, 2, '2026-01-12T10:00:00Z', 100, 'paid');
INSERT INTO subscriptions (id, customer_id, product_id, started_at, status, cycles, cancelled_at, cancel_reason) VALUES
 (1, 1, 1, '2025-10-15', 'cancelled', 3, '2026-01-01', '<img src=x onerror=alert(1)>');
)";
  World w(sql, "message hi via email cost 3\nrule hello: when purchase_count >= 1 then send hi\n");
  Runner r = w.runner();
  SimulateOptions o;
  o.from = day("2026-02-01");
  o.to = day("2026-02-10");
  SimulationResult s = simulate(r, w.program, w.facts, o);
  Kpis k = compute_kpis(w.facts, o.from, o.to);
  ReportInput in{"camp<script>.crm", "shop\"&.db", &s, &k};
  std::string html = report_html(in);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(html.find("camp&lt;script&gt;.crm") != std::string::npos);
  CHECK(html.find("shop&quot;&amp;.db") != std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // the only URL: the SVG namespace
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("Daily volume") != std::string::npos);
  CHECK(html.find("Second-purchase rate (F2) by cohort") != std::string::npos);
  CHECK(html.find("Subscription retention curve") != std::string::npos);
  CHECK(html.find("Cancellation reasons") != std::string::npos);
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) svgs++;
  CHECK(svgs >= 5);
  CHECK(html == report_html(in));  // deterministic
  // The text report names the sample customers to explain.
  std::string text = simulation_text(in);
  CHECK(text.find("crm explain camp<script>.crm --db shop\"&.db --customer 1 --date 2026-02-01") != std::string::npos);
  CHECK(s.rules[0].reached == 2);
  CHECK(s.cost == doctest::Approx(6));
  std::string kt = kpis_text(k);
  CHECK(kt.find("2026-01") != std::string::npos);
}

TEST_CASE("svg: charts escape names, skip missing values, and handle empty input") {
  ChartOptions o;
  o.title = "T <x>";
  std::string bars = svg_stacked_bars({"a", "b"}, {{"s<1>", "#123456", {1, 2}}, {"s2", "#654321", {0, NAN}}}, o);
  CHECK(bars.find("<title>T &lt;x&gt;</title>") != std::string::npos);
  CHECK(bars.find("s&lt;1&gt;") != std::string::npos);
  CHECK(bars.find("nan") == std::string::npos);
  size_t rects = 0;
  for (size_t p = bars.find("<rect x"); p != std::string::npos; p = bars.find("<rect x", p + 1)) rects++;
  CHECK(rects == 2 + 2);  // two bars plus two legend swatches
  std::string empty = svg_lines({}, {}, o);
  CHECK(empty.find("</svg>") != std::string::npos);
  o.percent = true;
  std::string lines = svg_lines({"0", "1", "2"}, {{"x", "#000", {1.0, NAN, 0.5}}}, o);
  CHECK(lines.find("nan") == std::string::npos);
  CHECK(lines.find("M") != lines.rfind("M"));  // the missing value breaks the line
  std::string h = svg_hbars({"r1"}, {3}, "#000", o);
  CHECK(h.find("r1") != std::string::npos);
}
