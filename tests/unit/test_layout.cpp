// Unit tests of the pieces that make the engine's pipeline one of each: the customers column
// list (columns.def) and the FactWriter, compile_script and the stdlib path, the StagePlan, the
// outbox keys, and one-customer slices of the facts.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/eval/compiled_script.hpp"
#include "engine/run/outbox.hpp"
#include "engine/run/run.hpp"
#include "engine/run/stage_plan.hpp"
#include "engine/store/columns.hpp"
#include "engine/store/fact_writer.hpp"
#include "engine/store/sqlite_store.hpp"
#include "temp_dir.hpp"

using namespace crm;
using namespace crm::engine;

namespace {

Days day(const char* s) { return *parse_date(s); }

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("layout_test") {}
};

CompiledScript compile_text(const TempDir& dir, const std::string& text, lang::Diagnostics& diags) {
  std::string file = dir.path + "/script.crm";
  std::ofstream(file) << text;
  lang::CheckOptions options;
  options.has_store = true;
  options.stdlib_dirs = stdlib_search_path("");
  return compile_script({file}, options, diags);
}

}  // namespace

TEST_CASE("columns.def: the customers columns in SPEC order, the opt-ins among them, version 1's table") {
  REQUIRE(kCustomerColumnCount == 11);
  CHECK(kCustomerColumns[0].name == "id");
  CHECK(kCustomerColumns[static_cast<size_t>(CustomerCol::referred_by)].name == "referred_by");
  for (const char* o : kOptInColumns) CHECK(is_customer_column(o));
  CHECK_FALSE(is_customer_column("plan"));
  std::string v1 = customer_columns_sql_v1();
  CHECK(v1.rfind("  id INTEGER PRIMARY KEY, name TEXT", 0) == 0);
  CHECK(v1.find("created_at TEXT,\n  email_opt_in BOOLEAN") != std::string::npos);  // the text migration 1 had
  CHECK(v1.find("referred_by INTEGER") != std::string::npos);
  std::string pg = customer_columns_sql_v1(/*postgres=*/true);  // PostgreSQL's customers table
  CHECK(pg.rfind("  id bigint PRIMARY KEY, name text, email text, birthday date, created_at timestamp,", 0) == 0);
  CHECK(pg.find("dm_opt_in boolean, referred_by bigint") != std::string::npos);
}

TEST_CASE("FactWriter: typed rows read back through the loader; a second tag is ignored; names are quoted") {
  SqliteStore store = SqliteStore::open(":memory:", true);
  SQLite::Database& db = store.db();
  {
    SQLite::Transaction tx(db);
    FactWriter w(db);
    w.add_customer_column("plan", "TEXT");
    w.add_customer_column("plan", "TEXT");  // present: nothing to do
    w.add_customer_column("odd \"name\"", "INTEGER");
    CustomerRow c;
    c.set(CustomerCol::id, int64_t{7}).set(CustomerCol::name, std::string("Aiko"));
    c.set(CustomerCol::created_at, std::string("2026-01-05")).set(CustomerCol::email_opt_in, int64_t{1});
    c.extra = {{"plan", std::string("gold")}, {"odd \"name\"", int64_t{3}}};
    CHECK(w.write(c) == 7);
    ProductRow p;
    p.sku = "tea";
    p.name = std::string("Tea");
    int64_t pid = w.write(p);
    w.write(OrderRow{1, 7, "2026-02-01T10:00:00", 1200.5, "paid"});
    w.write(OrderItemRow{1, pid, 2, int64_t{600}});
    w.write(TagRow{7, "vip", "2026-01-10"});
    w.write(TagRow{7, "vip", "2026-01-11"});  // a set member: ignored
    w.write(SurveyRow{7, "2026-02-02", 5});
    w.insert("events", {"customer_id", "type", "at"}, {int64_t{7}, std::string("visit"), std::string("2026-02-03")});
    tx.commit();
  }
  CHECK(db.execAndGet("SELECT count(*) FROM tags").getInt64() == 1);
  CHECK(db.execAndGet("SELECT \"odd \"\"name\"\"\" FROM customers").getInt64() == 3);
  Facts f = std::move(store.load_facts(TimeZone()).facts);
  REQUIRE(f.rows() == 1);
  CHECK(f.customer_id[0] == 7);
  CHECK(f.created_at[0] == day("2026-01-05"));
  CHECK(f.opt_in[0][0] == 1);
  CHECK(f.opt_in[1][0] == -1);  // not set: null
  REQUIRE(f.order_total.size() == 1);
  CHECK(f.order_total[0] == doctest::Approx(1200.5));
  CHECK(f.survey_satisfaction == std::vector<int64_t>{5});
  CHECK(f.event_id.size() == 1);
  bool plan = false;
  for (const auto& e : f.extra) {
    CHECK_FALSE(is_customer_column(e.name));  // no SPEC column is taken for an extra one
    plan = plan || e.name == "plan";
  }
  CHECK(plan);
}

TEST_CASE("slice_facts: one customer's facts alone equal that customer's part of the whole") {
  SqliteStore store = SqliteStore::open(":memory:", true);
  store.db().exec(R"(
    INSERT INTO customers (id, created_at) VALUES (1, '2026-01-01'), (2, '2026-01-02'), (3, '2026-01-03');
    INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES
      (10, 2, '2026-02-01', 100, 'paid'), (11, 1, '2026-02-02', 50, 'paid'), (12, 2, '2026-01-15', 70, 'paid');
    INSERT INTO events (customer_id, type, at) VALUES (2, 'visit', '2026-02-05'), (3, 'visit', '2026-02-06');
    INSERT INTO tags (customer_id, tag, set_at) VALUES (2, 'vip', '2026-01-20');
  )");
  Facts f = std::move(store.load_facts(TimeZone()).facts);
  FactsRowIndex index;
  index.build(f);
  Facts one;
  slice_facts(f, index, 1, one);  // customer 2
  CHECK(one.rows() == 1);
  CHECK(one.customer_id == std::vector<int64_t>{2});
  CHECK(one.order_id == std::vector<int64_t>{12, 10});  // by day
  CHECK(one.order_offsets == Offsets{0, 2});
  CHECK(one.event_id.size() == 1);
  CHECK(one.event_row == std::vector<uint32_t>{0});
  CHECK(one.tag.size() == 1);
  slice_facts(f, index, 0, one);  // reused: customer 1 has no events or tags
  CHECK(one.customer_id == std::vector<int64_t>{1});
  CHECK(one.event_id.empty());
  CHECK(one.tag.empty());
  CHECK(one.order_id == std::vector<int64_t>{11});
}

TEST_CASE("compile_script: one CompiledScript; a checker error stops before the graph") {
  TempDir dir;
  lang::Diagnostics diags;
  CompiledScript s = compile_text(dir, "rule a: when purchase_count >= 1 then tag buyer\n", diags);
  REQUIRE_FALSE(diags.has_errors());
  CHECK(s.program.rules.size() == 1);
  CHECK(s.compiled.rules().size() == 1);
  CHECK(s.graph.rule_order.size() == 1);
  lang::Diagnostics bad;
  CompiledScript t = compile_text(dir, "rule a: when no_such_attribute >= 1 then tag buyer\n", bad);
  CHECK(bad.has_errors());
  CHECK(t.graph.rule_order.empty());
}

TEST_CASE("stdlib_search_path: the caller's folders, $CRM_STDLIB, beside the binary, install, source") {
  const char* saved = std::getenv("CRM_STDLIB");
  std::string keep = saved ? saved : "";
  setenv("CRM_STDLIB", "/env/stdlib", 1);
  auto dirs = stdlib_search_path("/opt/crm/share/crm/stdlib", {"/mine"});
  REQUIRE(dirs.size() == 5);
  CHECK(dirs[0] == "/mine");
  CHECK(dirs[1] == "/env/stdlib");
  CHECK(dirs[2] == "/opt/crm/share/crm/stdlib");
  unsetenv("CRM_STDLIB");
  CHECK(stdlib_search_path("").size() == 2);  // install prefix and source tree
  if (saved) setenv("CRM_STDLIB", keep.c_str(), 1);
}

TEST_CASE("StagePlan: a tag reader after a live tag writer starts a stage; the plan follows from/until") {
  TempDir dir;
  lang::Diagnostics diags;
  CompiledScript s = compile_text(dir,
                                  "rule writer: when purchase_count >= 0 then tag seen from 2026-03-02 until 2026-03-03\n"
                                  "rule reader: when \"seen\" in tags then grant coupon c\n"
                                  "rule plain: when purchase_count >= 0 then grant coupon d\n",
                                  diags);
  REQUIRE_FALSE(diags.has_errors());
  StagePlan plan(s.program, s.graph, s.compiled);
  auto live = plan.for_day(day("2026-03-02"));
  size_t stages_live = live.size();
  size_t rules_live = 0;
  for (const auto& st : live) rules_live += st.size();
  CHECK(stages_live == 2);  // the reader waits for the writer's tags
  CHECK(rules_live == 3);
  auto before = plan.for_day(day("2026-03-01"));  // the writer is not live: one stage
  CHECK(before.size() == 1);
  CHECK(before[0].size() == 2);
  CHECK(plan.for_day(day("2026-03-03")).size() == 2);
  CHECK(plan.for_day(day("2026-03-04")).size() == 1);
}

TEST_CASE("outbox: the dedupe value read back from an idempotency key") {
  ActionOut a;
  a.rule_name = "winback.dormant";
  a.customer = 42;
  a.dedupe = "2026-03-02";
  a.action_index = 1;
  std::string key = idem_key(a);
  CHECK(key == "winback.dormant|42|2026-03-02|1");
  CHECK(dedupe_of_idem_key(key) == "2026-03-02");
  CHECK(dedupe_of_idem_key("broken") == "");
  a.dedupe = "a|b";  // a `once per` value may hold the separator
  CHECK(dedupe_of_idem_key(idem_key(a)) == "a|b");
}
