// The in-language test runner (test_runner.hpp): fixtures into an in-memory store with the
// store's own schema, loaded through the normal path, the days run as a dry run (as `crm
// simulate` does), and the actions matched against the test's expectations.
#include "engine/run/test_runner.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "engine/run/action.hpp"
#include "engine/run/run.hpp"
#include "engine/store/columns.hpp"
#include "engine/store/fact_writer.hpp"
#include "engine/store/sqlite_store.hpp"
#include "lang/formatter.hpp"

namespace crm::engine {
namespace {

using lang::Expr;
using lang::Test;
using lang::TestExpect;
using lang::TestFact;

// A fixture's column fact other than these (and `id`) is an extra customers column.
bool is_spec_column(const std::string& n) { return n != "id" && is_customer_column(n); }

const char* sql_type(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Int: return "INTEGER";
    case Expr::Kind::Decimal: return "NUMERIC";
    case Expr::Kind::Bool: return "BOOLEAN";
    case Expr::Kind::Date: return "DATE";
    default: return "TEXT";
  }
}

// A fixture literal as a stored value.
Cell literal_cell(const Expr* e) {
  if (!e) return {};
  switch (e->kind) {
    case Expr::Kind::Int:
    case Expr::Kind::Bool: return static_cast<int64_t>(e->ival);
    case Expr::Kind::Decimal: return e->dval;
    case Expr::Kind::Date: return format_date(static_cast<Days>(e->ival));
    case Expr::Kind::String: return e->text;
    default: return {};
  }
}

void append_json_literal(std::string& out, const Expr* e) {
  if (!e) {
    out += "null";
    return;
  }
  switch (e->kind) {
    case Expr::Kind::Int: out += std::to_string(e->ival); break;
    case Expr::Kind::Decimal: out += fmt::format("{}", e->dval); break;
    case Expr::Kind::Bool: out += e->ival ? "true" : "false"; break;
    case Expr::Kind::Date: append_json_string(out, format_date(static_cast<Days>(e->ival))); break;
    case Expr::Kind::String: append_json_string(out, e->text); break;
    default: out += "null"; break;
  }
}

// The extra columns of all the file's fixtures with their SQL types (a column that is an int
// for one customer and a decimal for another is NUMERIC, as the checker types it decimal).
std::vector<std::pair<std::string, std::string>> extra_columns(const lang::Module& m) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : m.items) {
    const Test* t = std::get_if<Test>(&item.node);
    if (!t) continue;
    for (const auto& c : t->customers)
      for (const auto& f : c.facts) {
        if (f.kind != TestFact::Kind::Column || !f.value || is_spec_column(f.name)) continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.first == f.name; });
        if (it == out.end()) out.emplace_back(f.name, sql_type(*f.value));
        else if (it->second != std::string(sql_type(*f.value))) it->second = "NUMERIC";
      }
  }
  return out;
}

// Fills the in-memory store `db` with the fixtures of `t` (through the store's FactWriter).
void fill_store(SQLite::Database& db, const Test& t, const std::vector<std::pair<std::string, std::string>>& extra) {
  const Days first = t.dates.empty() ? 0 : t.dates.front().from;
  SQLite::Transaction tx(db);
  FactWriter w(db);
  for (const auto& [name, type] : extra) w.add_customer_column(name, type);

  std::map<std::string, int64_t> products;
  // An item "CATEGORY:SKU" is the product SKU of that category (categories, bought_category).
  auto product = [&](const std::string& written) {
    size_t colon = written.find(':');
    std::string sku = colon == std::string::npos ? written : written.substr(colon + 1);
    auto it = products.find(sku);
    if (it != products.end()) return it->second;
    ProductRow p;
    p.sku = sku;
    p.name = sku;
    if (colon != std::string::npos) p.category = written.substr(0, colon);
    return products[sku] = w.write(p);
  };
  // Order ids: the ones written, then the next free numbers in declaration order.
  std::set<int64_t> taken;
  for (const auto& c : t.customers)
    for (const auto& f : c.facts)
      if (f.kind == TestFact::Kind::Order && f.id) taken.insert(*f.id);
  int64_t next_order = 1;

  for (const auto& c : t.customers) {
    // id, created_at (default: the test's first day), the opt-ins (default false), then every
    // other column given.
    CustomerRow row;
    row.set(CustomerCol::id, c.id);
    row.set(CustomerCol::created_at, format_date(first));
    for (const char* o : kOptInColumns)
      for (size_t k = 0; k < kCustomerColumnCount; ++k)
        if (kCustomerColumns[k].name == o) row.cells[k] = int64_t{0};
    for (const auto& f : c.facts) {
      if (f.kind != TestFact::Kind::Column || !f.value || f.name == "id") continue;
      if (f.name == "created_at") {
        row.set(CustomerCol::created_at, format_date(static_cast<Days>(f.value->ival)));
        continue;
      }
      Cell v = literal_cell(f.value.get());
      if (is_spec_column(f.name)) {
        for (size_t k = 0; k < kCustomerColumnCount; ++k)
          if (kCustomerColumns[k].name == f.name) row.cells[k] = std::move(v);
        continue;
      }
      auto it = std::find_if(row.extra.begin(), row.extra.end(), [&](const auto& e) { return e.first == f.name; });
      if (it != row.extra.end()) it->second = std::move(v);
      else row.extra.emplace_back(f.name, std::move(v));
    }
    w.write(row);

    for (const auto& f : c.facts) {
      std::string day = f.date ? format_date(*f.date) : std::string();
      switch (f.kind) {
        case TestFact::Kind::Column: break;
        case TestFact::Kind::Order: {
          int64_t id = f.id ? *f.id : 0;
          if (!f.id) {
            while (taken.count(next_order)) ++next_order;
            id = next_order++;
          }
          OrderRow o;
          o.id = id;
          o.customer_id = c.id;
          o.ordered_at = day;
          o.total = f.total ? literal_cell(f.total.get()) : Cell(int64_t{0});
          o.status = f.status.empty() ? std::string("paid") : f.status;
          w.write(o);
          for (const auto& sku : f.items) {
            OrderItemRow item;
            item.order_id = id;
            item.product_id = product(sku);
            item.quantity = 1;
            item.price = int64_t{0};
            w.write(item);
          }
          break;
        }
        case TestFact::Kind::Subscription: {
          SubscriptionRow s;
          s.customer_id = c.id;
          if (f.product) s.product_id = product(*f.product);
          s.started_at = day;
          s.status = !f.status.empty() ? f.status : f.cancelled ? std::string("cancelled") : std::string("active");
          s.cycles = f.cycles.value_or(0);
          if (f.cancelled) s.cancelled_at = format_date(*f.cancelled);
          if (f.reason) s.cancel_reason = *f.reason;
          w.write(s);
          break;
        }
        case TestFact::Kind::Survey:
          w.write(SurveyRow{c.id, day, f.satisfaction});
          break;
        case TestFact::Kind::Referral:
          w.write(ReferralRow{c.id, f.referee, day});
          break;
        case TestFact::Kind::Tag:
          w.write(TagRow{c.id, f.name, f.date ? day : format_date(first - 1)});
          break;
        case TestFact::Kind::Event: {
          std::string payload = "{";
          for (size_t k = 0; k < f.fields.size(); ++k) {
            if (k) payload += ',';
            append_json_string(payload, f.fields[k].first);
            payload += ':';
            append_json_literal(payload, f.fields[k].second.get());
          }
          payload += '}';
          EventRow e;
          e.customer_id = c.id;
          e.type = f.name;
          e.at = day;
          e.payload = payload;
          w.write(e);
          break;
        }
      }
    }
  }
  tx.commit();
}

bool matches(const TestExpect& e, const ActionOut& a) {
  if (e.to && a.customer != *e.to) return false;
  if (e.on && a.date != *e.on) return false;
  if (e.no_actions) return true;
  if (a.kind != e.action) return false;
  if (e.action == lang::ActionKind::Points) {
    if (std::strtod(std::string(a.target).c_str(), nullptr) != e.points) return false;
  } else if (a.target != e.target) {
    return false;
  }
  if (e.via && a.channel != e.via) return false;
  if (!e.rule.empty() && a.rule_name != e.rule) return false;
  if (e.subject && a.subject() != *e.subject) return false;
  return status_name(a.status) == (e.status.empty() ? std::string("sent") : e.status);
}

// "send winback_we_miss_you to 2 via email on 2026-04-02" (with the rule and a status other than sent).
std::string action_text(const ActionOut& a) {
  std::string s = std::string(lang::action_name(a.kind)) + " " + std::string(a.target) + fmt::format(" to {}", a.customer);
  if (a.channel) s += std::string(" via ") + lang::channel_name(*a.channel);
  s += fmt::format(" on {} rule {}", format_date(a.date), a.rule_name);
  if (a.status != Status::Sent) s += std::string(" ") + status_name(a.status);
  return s;
}

// "2026-04-02  customer 2  winback.dormant_90  send winback_we_miss_you  email  sent"
std::string actual_line(const ActionOut& a) {
  return fmt::format("{}  customer {}  {}  {} {}  {}  {}", format_date(a.date), a.customer, a.rule_name,
                     lang::action_name(a.kind), a.target, a.channel ? lang::channel_name(*a.channel) : "-",
                     status_name(a.status));
}

// The test's days on its own store; the result in `r` (throws on store errors).
void run_test_days(const CompiledScript& script, const TimeZone& tz, const lang::Module& module, const Test& t,
                   TestResult& r) {
  const Days from = t.dates.front().from, to = t.dates.front().to;
  if (to - from + 1 > kMaxTestDays) {
    r.lines.push_back(fmt::format("error: the test runs {} days; at most {} are allowed", to - from + 1, kMaxTestDays));
    return;
  }
  SqliteStore store = SqliteStore::open(":memory:", true);
  fill_store(store.db(), t, extra_columns(module));
  LoadResult loaded = store.load_facts(tz);
  for (const auto& w : loaded.warnings) r.lines.push_back("warning: " + w);
  Facts facts = std::move(loaded.facts);
  Runner runner(script, facts);
  std::vector<ActionOut> actual;
  RunOptions days;  // a dry run of the test's days, history and tags carried in memory
  days.from = from;
  days.to = to;
  days.on_action = [&](const ActionOut& a) { actual.push_back(a); };
  run_days(runner, nullptr, days);
  std::vector<std::string> unmet;
  for (const TestExpect& e : t.expects) {
    size_t n = 0;
    for (const auto& a : actual) n += matches(e, a);
    std::string text = lang::test_expect_text(e, false);
    if (e.absent) {
      for (const auto& a : actual)
        if (matches(e, a)) unmet.push_back(fmt::format("+ unexpected: {}   (expected absent: {})", action_text(a), text));
    } else if (e.times ? n != static_cast<size_t>(*e.times) : n == 0) {
      unmet.push_back(fmt::format("- expected: {}   ({})", text,
                                  n == 0 ? std::string("no such action") : fmt::format("found {}, expected {}", n, *e.times)));
    }
  }
  r.passed = unmet.empty() && loaded.warnings.empty();
  if (r.passed) return;
  r.lines.insert(r.lines.end(), unmet.begin(), unmet.end());
  r.lines.push_back(actual.empty() ? "actual actions: none" : "actual actions:");
  bool subjects = std::any_of(t.expects.begin(), t.expects.end(), [](const TestExpect& e) { return e.subject.has_value(); });
  for (const auto& a : actual)
    r.lines.push_back("  " + actual_line(a) + (subjects && !a.subject().empty() ? "  subject " + lang::quote_string(a.subject()) : ""));
}

}  // namespace

TestResult run_test(const CompiledScript& script, const TimeZone& tz, const lang::Module& module, const Test& t) {
  TestResult r;
  try {
    run_test_days(script, tz, module, t, r);
  } catch (const std::exception& e) {  // SQLite or store errors building the fixtures
    r = TestResult{};
    r.lines.push_back(fmt::format("error: {}", e.what()));
  }
  return r;
}

}  // namespace crm::engine
