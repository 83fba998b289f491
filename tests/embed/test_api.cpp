// The embedding API through the shared library only (libcrm, crm.hpp and crm.h): compile
// diagnostics as values, in-memory stores, evaluation, events, explain, and thread safety: one
// compiled script used from 2 threads gives the same actions as one thread after the other.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <crm/crm.h>
#include <doctest/doctest.h>

#include <crm/crm.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sample_json.hpp"

namespace {

const int kCustomers = 400;
const char* kDates[] = {"2026-11-24", "2026-10-01", "2026-06-15"};

std::string playbook() { return std::string(CRM_TEST_DIR) + "/bench/playbook20.crm"; }

crm::Script compile(const crm::Store& store) {
  crm::CompileOptions options;
  options.store = &store;
  crm::CompileResult r = crm::Script::compile_file(playbook(), options);
  REQUIRE_MESSAGE(r.ok(), r.rendered());
  return *r.script;
}

// Every action of customers [first, last] on every date, as JSON lines, keyed by customer.
using Results = std::map<int64_t, std::string>;
void evaluate_range(const crm::Store& store, const crm::Script& script, int64_t first, int64_t last, Results& out) {
  for (int64_t id = first; id <= last; ++id) {
    std::string lines;
    for (const char* d : kDates)
      for (const auto& a : store.evaluate(script, id, d)) lines += a.to_json() + "\n";
    out[id] = lines;
  }
}

}  // namespace

TEST_CASE("diagnostics are values with file, line, column, code and hint") {
  crm::CompileResult r =
      crm::Script::compile_string("message m via email\nrule r: when purchse_count > 1 then send m\n", "bad.crm");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() >= 1);
  const crm::Diagnostic& d = r.diagnostics[0];
  CHECK(d.file == "bad.crm");
  CHECK(d.line == 2);
  CHECK(d.col == 14);
  CHECK(d.severity == "error");
  CHECK(d.code == "E-unknown-name");
  CHECK(d.hint.find("purchase_count") != std::string::npos);
  CHECK(r.rendered().find("bad.crm:2:14: error:") == 0);
}

TEST_CASE("in-memory customers: extra columns, errors with positions, time zones") {
  crm::Store store = crm::Store::from_json(
      R"({"customers":[{"id":7,"email_opt_in":true,"plan":"gold","since":"2026-01-02","score":2.5}],
          "orders":[{"id":1,"customer_id":7,"ordered_at":"2026-11-01T10:00:00","total":1200,"status":"paid"}]})");
  CHECK(store.customer_count() == 1);
  CHECK(store.timezone() == "UTC");
  crm::CompileOptions options;
  options.store = &store;
  auto r = crm::Script::compile_string(
      "message hi via email\nrule r: when plan == \"gold\" and since < 2026-02-01 and score > 2 and purchase_count == 1 "
      "then send hi\n",
      "x.crm", options);
  REQUIRE_MESSAGE(r.ok(), r.rendered());
  auto actions = store.evaluate(*r.script, 7, "2026-11-24");
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].to_json() ==
        R"({"date":"2026-11-24","customer":7,"rule":"r","action":"send","target":"hi","channel":"email","status":"sent"})");
  // Without the store the extra column is an unknown name.
  CHECK_FALSE(crm::Script::compile_string("rule r: when plan == \"gold\" then tag g\n").ok());
  CHECK_THROWS_WITH_AS(store.evaluate(*r.script, 8, "2026-11-24"), "no customer with id 8", crm::Error);
  CHECK_THROWS_AS(store.evaluate(*r.script, 7, "2026-13-01"), crm::Error);
  CHECK_THROWS_WITH_AS(crm::Store::from_json(R"({"customers":[],"order":[]})"),
                       doctest::Contains("unknown table 'order'"), crm::Error);
  CHECK_THROWS_WITH_AS(crm::Store::from_json(R"({"customers":[{"id":1}],"orders":[{"id":1,"price":3}]})"),
                       doctest::Contains("orders[0] has the key 'price'"), crm::Error);
  CHECK_THROWS_WITH_AS(crm::Store::from_json("{\"customers\":[{\"id\":1}"), doctest::Contains("customers JSON"),
                       crm::Error);
  // A script in another zone than the store's is refused, with the way out.
  auto tokyo = crm::Script::compile_string("timezone \"Asia/Tokyo\"\nrule r: when true then tag t\n");
  REQUIRE(tokyo.ok());
  CHECK_THROWS_WITH_AS(store.evaluate(*tokyo.script, 7, "2026-11-24"), doctest::Contains("StoreOptions::timezone"),
                       crm::Error);
}

TEST_CASE("one customer's evaluation is that customer's part of the day's dry run") {
  crm::Store store = crm::Store::from_json(crm::testing::sample_customers_json(kCustomers));
  crm::Script script = compile(store);
  for (const char* d : kDates) {
    std::map<int64_t, std::string> from_run;
    crm::RunResult rr = store.run(script, d, d, /*dry_run=*/true,
                                  [&](const crm::Action& a) { from_run[a.customer] += a.to_json() + "\n"; });
    CHECK(rr.days == 1);
    CHECK(rr.written == 0);
    int64_t total = 0;
    for (int64_t id = 1; id <= kCustomers; ++id) {
      std::string lines;
      auto actions = store.evaluate(script, id, d);
      total += static_cast<int64_t>(actions.size());
      for (const auto& a : actions) lines += a.to_json() + "\n";
      CHECK_MESSAGE(lines == from_run[id], "customer " << id << " on " << d);
    }
    CHECK(total == rr.actions);
    CHECK(total > 0);
  }
}

TEST_CASE("crm_evaluate's JSON is the C++ actions' JSON, in any order of calls") {
  // The store reuses one runner (frame, evaluator, history) across calls: no call may see what
  // an earlier one left, whatever the order of customers and dates.
  std::string json = crm::testing::sample_customers_json(kCustomers);
  crm::Store store = crm::Store::from_json(json);
  crm::Script script = compile(store);
  std::map<std::pair<int64_t, int>, std::string> expected;  // (customer, date index) -> JSON array
  for (int k = 0; k < 3; ++k)
    for (int64_t id = 1; id <= kCustomers; ++id) {
      std::string arr = "[";
      for (const auto& a : store.evaluate(script, id, kDates[k])) {
        if (arr.size() > 1) arr += ',';
        arr += a.to_json();
      }
      expected[{id, k}] = arr + "]";
    }
  crm_store* st = nullptr;
  crm_script* cs = nullptr;
  REQUIRE(crm_store_from_json(json.c_str(), nullptr, &st) == CRM_OK);
  REQUIRE(crm_script_compile_file(playbook().c_str(), st, &cs, nullptr) == CRM_OK);
  size_t with_actions = 0, checked = 0;
  for (int64_t i = 0; i < 3 * kCustomers; ++i) {  // customers scrambled, dates interleaved
    int64_t id = 1 + (i * 151) % kCustomers;
    int k = static_cast<int>((i * 7) % 3);
    char* j = nullptr;
    REQUIRE(crm_evaluate(st, cs, id, kDates[k], &j) == CRM_OK);
    const std::string& want = expected[{id, k}];
    CHECK_MESSAGE(std::string(j) == want, "customer " << id << " on " << kDates[k]);
    with_actions += std::string(j) != "[]";
    ++checked;
    crm_free(j);
  }
  CHECK(checked == 3 * kCustomers);
  CHECK(with_actions > 100);
  crm_script_free(cs);
  crm_store_free(st);
}

TEST_CASE("the same script from 2 threads gives the same actions as one thread") {
  std::string json = crm::testing::sample_customers_json(kCustomers);
  crm::Store store = crm::Store::from_json(json);
  crm::Script script = compile(store);
  Results sequential;
  evaluate_range(store, script, 1, kCustomers, sequential);
  size_t actions = 0;
  for (const auto& [id, lines] : sequential) actions += static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n'));
  CHECK(actions > 100);

  SUBCASE("one store per thread") {
    crm::Store a = crm::Store::from_json(json), b = crm::Store::from_json(json);
    Results ra, rb;
    std::thread t1([&] { evaluate_range(a, script, 1, kCustomers / 2, ra); });
    std::thread t2([&] { evaluate_range(b, script, kCustomers / 2 + 1, kCustomers, rb); });
    t1.join();
    t2.join();
    ra.merge(rb);
    CHECK(ra == sequential);
  }
  SUBCASE("one shared store (its lock serialises the calls)") {
    Results ra, rb;
    std::thread t1([&] { evaluate_range(store, script, 1, kCustomers / 2, ra); });
    std::thread t2([&] { evaluate_range(store, script, kCustomers / 2 + 1, kCustomers, rb); });
    t1.join();
    t2.join();
    ra.merge(rb);
    CHECK(ra == sequential);
  }
  SUBCASE("through the C API, one store per thread") {
    crm_script* cs = nullptr;
    crm_store* s1 = nullptr;
    crm_store* s2 = nullptr;
    REQUIRE(crm_store_from_json(json.c_str(), nullptr, &s1) == CRM_OK);
    REQUIRE(crm_store_from_json(json.c_str(), nullptr, &s2) == CRM_OK);
    REQUIRE(crm_script_compile_file(playbook().c_str(), s1, &cs, nullptr) == CRM_OK);
    auto run = [&](crm_store* st, int64_t first, int64_t last, std::vector<std::string>& out) {
      for (int64_t id = first; id <= last; ++id) {
        char* j = nullptr;
        if (crm_evaluate(st, cs, id, "2026-11-24", &j) != CRM_OK) out.push_back(crm_last_error());
        else out.push_back(j);
        crm_free(j);
      }
    };
    std::vector<std::string> one, t1o, t2o;
    run(s1, 1, kCustomers, one);
    std::thread t1([&] { run(s1, 1, kCustomers / 2, t1o); });
    std::thread t2([&] { run(s2, kCustomers / 2 + 1, kCustomers, t2o); });
    t1.join();
    t2.join();
    t1o.insert(t1o.end(), t2o.begin(), t2o.end());
    CHECK(t1o == one);
    crm_script_free(cs);
    crm_store_free(s1);
    crm_store_free(s2);
  }
}

TEST_CASE("events, simulation and explain through the C++ API") {
  crm::Store store = crm::Store::from_json(
      R"({"customers":[{"id":1,"line_opt_in":true,"created_at":"2026-01-01"}],
          "subscriptions":[{"id":1,"customer_id":1,"product_id":1,"started_at":"2026-01-10","status":"active","cycles":10}]})");
  auto r = crm::Script::compile_string(
      "message keep via line\n"
      "rule keep: on cancel_request when event.reason == \"too_expensive\" and subscription.cycles >= 3 then send keep\n"
      "rule daily: when subscription.active then tag subscriber\n");
  REQUIRE_MESSAGE(r.ok(), r.rendered());
  crm::Event ev;
  ev.customer = 1;
  ev.type = "cancel_request";
  ev.payload = R"({"reason":"too_expensive"})";
  ev.id = 5;
  ev.date = "2026-11-24";
  auto actions = store.evaluate_event(*r.script, ev);
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].rule == "keep");
  CHECK(actions[0].channel == std::optional<std::string>("line"));
  CHECK(actions[0].status == "sent");
  ev.payload = R"({"reason":"no_effect"})";
  CHECK(store.evaluate_event(*r.script, ev).empty());
  ev.payload = "[1]";
  CHECK_THROWS_AS(store.evaluate_event(*r.script, ev), crm::Error);

  int64_t seen = 0;
  crm::SimulationSummary sim =
      store.simulate(*r.script, "2026-11-01", "2026-11-30", [&](const crm::Action&) { ++seen; });
  CHECK(sim.days == 30);
  CHECK(sim.sent == 1);  // the tag, once: history is kept across simulated days
  CHECK(seen == 1);
  CHECK(sim.touched == 1);

  auto why = store.explain(*r.script, 1, "2026-11-24");
  REQUIRE(why.size() == 2);
  CHECK(why[1].rule == "daily");
  CHECK(why[1].fired);
  CHECK(why[1].reason == "FIRED");
  CHECK(why[1].condition == std::optional<std::string>("true"));
  CHECK(why[1].tree.find("subscription.active = true") != std::string::npos);
  CHECK(why[0].reason == "not fired: no 'cancel_request' event of this customer made it true today");
  std::string text = store.explain_text(*r.script, 1, "2026-11-24");
  CHECK(text.find("customer 1 on 2026-11-24: 2 rule(s), in evaluation order") == 0);
  CHECK(store.explain_text(*r.script, 1, "2026-11-24", "jsonl").find("{\"date\":\"2026-11-24\",\"customer\":1,\"rule\":") ==
        0);
}

TEST_CASE("time windows and categories through the API, as of the evaluation day") {
  crm::Store store = crm::Store::from_json(
      R"({"customers":[{"id":1}],
          "products":[{"id":1,"sku":"RUN-42","category":"shoes"}],
          "orders":[{"id":1,"customer_id":1,"ordered_at":"2026-11-01T10:00:00","total":120,"status":"paid"}],
          "order_items":[{"order_id":1,"product_id":1,"quantity":1,"price":120}]})");
  auto r = crm::Script::compile_string(
      "rule w: when purchases_in(7) == 1 and spent_in(7) == 120 and bought_category(\"shoes\") then tag recent\n");
  REQUIRE_MESSAGE(r.ok(), r.rendered());
  // 2026-11-01 .. 2026-11-07 is the 7 days up to and including 11-07; not 11-08; never before the order.
  CHECK(store.evaluate(*r.script, 1, "2026-10-31").empty());
  CHECK(store.evaluate(*r.script, 1, "2026-11-01").size() == 1);
  CHECK(store.evaluate(*r.script, 1, "2026-11-07").size() == 1);
  CHECK(store.evaluate(*r.script, 1, "2026-11-08").empty());
}

TEST_CASE("version") {
  CHECK(std::string(crm::version()) == CRM_VERSION_STRING);
  CHECK(std::string(crm_version()) == CRM_VERSION_STRING);
  CHECK(crm_version_number() == CRM_VERSION_NUMBER);
}

TEST_CASE("real runs and written events on an in-memory store are seen by later calls") {
  crm::Store store = crm::Store::from_json(R"({"customers":[{"id":1,"email_opt_in":true},{"id":2,"email_opt_in":false}]})");
  auto r = crm::Script::compile_string(
      "message hi via email\nrule hi: when true then send hi, tag greeted\n"
      "rule thanks: on survey when event.score >= 4 then grant points 100\n");
  REQUIRE_MESSAGE(r.ok(), r.rendered());
  const crm::Script& s = *r.script;
  CHECK(store.evaluate(s, 1, "2026-11-24").size() == 2);
  crm::RunResult run = store.run(s, "2026-11-24", "2026-11-24", /*dry_run=*/false);
  CHECK(run.actions == 4);  // customer 2's send is blocked_consent (its tag passes)
  CHECK(run.sent == 2 + 1);
  CHECK(run.written == 3);
  CHECK(store.run(s, "2026-11-24", "2026-11-24", false).written == 0);  // idempotent
  CHECK(store.evaluate(s, 1, "2026-11-25").empty());                       // once: fired on the 24th
  crm::Event ev;
  ev.customer = 1;
  ev.type = "survey";
  ev.payload = R"({"score":5})";
  ev.id = 77;
  ev.date = "2026-11-25";
  REQUIRE(store.evaluate_event(s, ev, /*write=*/true).size() == 1);
  CHECK(store.evaluate_event(s, ev).empty());  // the same event again: already acted on
  ev.id = 78;
  CHECK(store.evaluate_event(s, ev).size() == 1);
  CHECK_THROWS_AS(crm::Store::open("/nonexistent/dir/shop.db"), crm::StoreError);
  CHECK_THROWS_AS(store.run(s, "2026-11-25", "2026-11-24", true), crm::Error);
}

// Issue 12.3: depth limits instead of stack overflows in the host process.
namespace {
std::string chained_lets(int n) {
  std::string s = "message hi via email\nlet d0 = purchase_count\n";
  for (int i = 1; i < n; ++i) s += "let d" + std::to_string(i) + " = d" + std::to_string(i - 1) + " + 1\n";
  s += "rule r: when d" + std::to_string(n - 1) + " > 0 then send hi\n";
  return s;
}
}  // namespace

TEST_CASE("a chain of definitions too deep to compile is a diagnostic, not a crash; a long one compiles") {
  crm::Store store = crm::Store::from_json(R"({"customers":[{"id":7,"email_opt_in":true}]})");
  crm::CompileOptions options;
  options.store = &store;
  auto deep = crm::Script::compile_string(chained_lets(20000), "deep.crm", options);
  CHECK_FALSE(deep.ok());
  CHECK(deep.rendered().find("levels deep through the definitions") != std::string::npos);
  CHECK(deep.rendered().find("the limit is") != std::string::npos);
  auto fine = crm::Script::compile_string(chained_lets(300), "fine.crm", options);
  REQUIRE_MESSAGE(fine.ok(), fine.rendered());
  CHECK(store.evaluate(*fine.script, 7, "2026-11-24").size() == 1);
}

TEST_CASE("JSON nested past the limit is refused with a clear error (C++ and C API)") {
  std::string deep = R"({"customers":[{"id":1,"x":)";
  for (int i = 0; i < 80000; ++i) deep += "[";
  for (int i = 0; i < 80000; ++i) deep += "]";
  deep += "}]}";
  CHECK_THROWS_WITH_AS(crm::Store::from_json(deep), doctest::Contains("levels deep"), crm::Error);
  crm_store* s = nullptr;
  CHECK(crm_store_from_json(deep.c_str(), nullptr, &s) != CRM_OK);
  CHECK(s == nullptr);
  CHECK(std::string(crm_last_error()).find("levels deep") != std::string::npos);
  CHECK_NOTHROW(crm::Store::from_json(R"({"customers":[{"id":1}]})"));
}

TEST_CASE("compile_file refuses devices and directories at once (issue 12.5)") {
  auto zero = crm::Script::compile_file("/dev/zero");
  CHECK_FALSE(zero.ok());
  CHECK(zero.rendered().find("a device, not a script file") != std::string::npos);
  auto dir = crm::Script::compile_file("/");
  CHECK_FALSE(dir.ok());
  CHECK(dir.rendered().find("a directory") != std::string::npos);
  crm_script* s = nullptr;
  CHECK(crm_script_compile_file("/dev/zero", nullptr, &s, nullptr) != CRM_OK);
  CHECK(s == nullptr);
}
