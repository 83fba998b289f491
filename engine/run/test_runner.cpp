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
#include "engine/store/sqlite_store.hpp"
#include "lang/formatter.hpp"

namespace crm::engine {
namespace {

using lang::Expr;
using lang::Test;
using lang::TestExpect;
using lang::TestFact;

// The SPEC §5 columns of customers; every other column fact is an extra column.
bool is_spec_column(const std::string& n) {
  static const std::set<std::string> cols = {"name",        "email",       "birthday",   "created_at",
                                             "email_opt_in", "line_opt_in", "sms_opt_in", "push_opt_in",
                                             "dm_opt_in",   "referred_by"};
  return cols.count(n) > 0;
}

const char* sql_type(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Int: return "INTEGER";
    case Expr::Kind::Decimal: return "NUMERIC";
    case Expr::Kind::Bool: return "BOOLEAN";
    case Expr::Kind::Date: return "DATE";
    default: return "TEXT";
  }
}

// Binds a fixture literal to a statement parameter.
void bind_literal(SQLite::Statement& q, int i, const Expr* e) {
  if (!e) return q.bind(i);
  switch (e->kind) {
    case Expr::Kind::Int:
    case Expr::Kind::Bool: return q.bind(i, static_cast<int64_t>(e->ival));
    case Expr::Kind::Decimal: return q.bind(i, e->dval);
    case Expr::Kind::Date: return q.bind(i, format_date(static_cast<Days>(e->ival)));
    case Expr::Kind::String: return q.bind(i, e->text);
    default: return q.bind(i);
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

// Fills the in-memory store `db` with the fixtures of `t`.
void fill_store(SQLite::Database& db, const Test& t, const std::vector<std::pair<std::string, std::string>>& extra) {
  const Days first = t.dates.empty() ? 0 : t.dates.front().from;
  SQLite::Transaction tx(db);
  for (const auto& [name, type] : extra) db.exec(fmt::format("ALTER TABLE customers ADD COLUMN \"{}\" {}", name, type));

  std::map<std::string, int64_t> products;
  auto product = [&](const std::string& sku) {
    auto it = products.find(sku);
    if (it != products.end()) return it->second;
    SQLite::Statement q(db, "INSERT INTO products (sku, name) VALUES (?, ?)");
    q.bind(1, sku);
    q.bind(2, sku);
    q.exec();
    return products[sku] = db.getLastInsertRowid();
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
    std::vector<std::string> cols = {"id", "created_at"};
    std::vector<const Expr*> values = {nullptr, nullptr};
    for (const char* o : kOptInColumns) {
      cols.emplace_back(o);
      values.push_back(nullptr);
    }
    std::string created = format_date(first);
    for (const auto& f : c.facts) {
      if (f.kind != TestFact::Kind::Column || !f.value) continue;
      if (f.name == "created_at") {
        created = format_date(static_cast<Days>(f.value->ival));
        continue;
      }
      auto it = std::find(cols.begin(), cols.end(), f.name);
      if (it != cols.end()) {
        values[static_cast<size_t>(it - cols.begin())] = f.value.get();
      } else {
        cols.push_back(f.name);
        values.push_back(f.value.get());
      }
    }
    std::string names, marks;
    for (size_t k = 0; k < cols.size(); ++k) {
      names += (k ? ", \"" : "\"") + cols[k] + "\"";
      marks += k ? ", ?" : "?";
    }
    SQLite::Statement q(db, fmt::format("INSERT INTO customers ({}) VALUES ({})", names, marks));
    q.bind(1, c.id);
    q.bind(2, created);
    for (size_t k = 2; k < cols.size(); ++k) {
      if (values[k]) bind_literal(q, static_cast<int>(k + 1), values[k]);
      else q.bind(static_cast<int>(k + 1), 0);  // an opt-in not given: false
    }
    q.exec();

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
          SQLite::Statement o(db, "INSERT INTO orders (id, customer_id, ordered_at, total, status) VALUES (?, ?, ?, ?, ?)");
          o.bind(1, id);
          o.bind(2, c.id);
          o.bind(3, day);
          if (f.total) bind_literal(o, 4, f.total.get());
          else o.bind(4, 0);
          o.bind(5, f.status.empty() ? std::string("paid") : f.status);
          o.exec();
          for (const auto& sku : f.items) {
            int64_t p = product(sku);
            SQLite::Statement it(db, "INSERT INTO order_items (order_id, product_id, quantity, price) VALUES (?, ?, 1, 0)");
            it.bind(1, id);
            it.bind(2, p);
            it.exec();
          }
          break;
        }
        case TestFact::Kind::Subscription: {
          SQLite::Statement s(db,
                              "INSERT INTO subscriptions (customer_id, product_id, started_at, status, cycles, cancelled_at, "
                              "cancel_reason) VALUES (?, ?, ?, ?, ?, ?, ?)");
          s.bind(1, c.id);
          if (f.product) s.bind(2, product(*f.product));
          else s.bind(2);
          s.bind(3, day);
          s.bind(4, !f.status.empty() ? f.status : f.cancelled ? std::string("cancelled") : std::string("active"));
          s.bind(5, f.cycles.value_or(0));
          if (f.cancelled) s.bind(6, format_date(*f.cancelled));
          else s.bind(6);
          if (f.reason) s.bind(7, *f.reason);
          else s.bind(7);
          s.exec();
          break;
        }
        case TestFact::Kind::Survey: {
          SQLite::Statement s(db, "INSERT INTO surveys (customer_id, answered_at, satisfaction) VALUES (?, ?, ?)");
          s.bind(1, c.id);
          s.bind(2, day);
          s.bind(3, f.satisfaction);
          s.exec();
          break;
        }
        case TestFact::Kind::Referral: {
          SQLite::Statement s(db, "INSERT INTO referrals (referrer_id, referee_id, created_at) VALUES (?, ?, ?)");
          s.bind(1, c.id);
          s.bind(2, f.referee);
          s.bind(3, day);
          s.exec();
          break;
        }
        case TestFact::Kind::Tag: {
          SQLite::Statement s(db, "INSERT OR IGNORE INTO tags (customer_id, tag, set_at) VALUES (?, ?, ?)");
          s.bind(1, c.id);
          s.bind(2, f.name);
          s.bind(3, f.date ? day : format_date(first - 1));
          s.exec();
          break;
        }
        case TestFact::Kind::Event: {
          std::string payload = "{";
          for (size_t k = 0; k < f.fields.size(); ++k) {
            if (k) payload += ',';
            append_json_string(payload, f.fields[k].first);
            payload += ':';
            append_json_literal(payload, f.fields[k].second.get());
          }
          payload += '}';
          SQLite::Statement s(db, "INSERT INTO events (customer_id, type, at, payload) VALUES (?, ?, ?, ?)");
          s.bind(1, c.id);
          s.bind(2, f.name);
          s.bind(3, day);
          s.bind(4, payload);
          s.exec();
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
    if (std::strtod(a.target.c_str(), nullptr) != e.points) return false;
  } else if (a.target != e.target) {
    return false;
  }
  if (e.via && a.channel != e.via) return false;
  if (!e.rule.empty() && a.rule_name != e.rule) return false;
  return status_name(a.status) == (e.status.empty() ? std::string("sent") : e.status);
}

// "send winback_we_miss_you to 2 via email on 2026-04-02" (with the rule and a status other than sent).
std::string action_text(const ActionOut& a) {
  std::string s = std::string(lang::action_name(a.kind)) + " " + a.target + fmt::format(" to {}", a.customer);
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
  for (const auto& a : actual) r.lines.push_back("  " + actual_line(a));
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
