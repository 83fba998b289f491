// The checks of `test "NAME" { ... }` blocks (docs/testing.md) in the files given to the checker
// (tests of imported modules are ignored): fixture columns and their types, customers, the day
// or range, and the names used by expectations against the checked program.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "lang/check_context.hpp"
#include "lang/date.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/parser_support.hpp"

namespace crm::lang::detail {

namespace {

// The SPEC §5 columns of customers a fixture may set, with their types.
const std::map<std::string, Type>& customer_columns() {
  static const std::map<std::string, Type> cols = {
      {"name", Type::string()},          {"email", Type::string()},         {"birthday", Type::date()},
      {"created_at", Type::date()},      {"email_opt_in", Type::boolean()}, {"line_opt_in", Type::boolean()},
      {"sms_opt_in", Type::boolean()},   {"push_opt_in", Type::boolean()},  {"dm_opt_in", Type::boolean()},
      {"referred_by", Type::integer()},
  };
  return cols;
}

Type literal_type(const Expr* e) {
  if (!e) return Type::error();
  switch (e->kind) {
    case Expr::Kind::Int: return Type::integer();
    case Expr::Kind::Decimal: return Type::decimal();
    case Expr::Kind::String: return Type::string();
    case Expr::Kind::Bool: return Type::boolean();
    case Expr::Kind::Date: return Type::date();
    default: return Type::error();
  }
}

bool is_keyword(const std::string& w) {
  const auto& k = keyword_list();
  return std::find(k.begin(), k.end(), w) != k.end();
}

template <class F>
void for_each_test(const std::vector<Module>& modules, const std::vector<bool>& given, F f) {
  for (size_t i = 0; i < modules.size(); ++i) {
    if (i >= given.size() || !given[i]) continue;
    for (const auto& item : modules[i].items)
      if (auto* t = std::get_if<Test>(&item.node)) f(modules[i], *t);
  }
}

}  // namespace

std::vector<CheckOptions::Extra> fixture_columns(const std::vector<Module>& modules, const std::vector<bool>& given,
                                                 const CheckOptions& options, Diagnostics& diags) {
  struct Seen {
    Type type;
    SourcePtr file;
    Span span;
  };
  std::map<std::string, Seen> seen;
  std::vector<CheckOptions::Extra> out;
  for_each_test(modules, given, [&](const Module& m, const Test& t) {
    for (const auto& c : t.customers) {
      for (const auto& f : c.facts) {
        if (f.kind != TestFact::Kind::Column || !f.value) continue;
        Type type = literal_type(f.value.get());
        if (auto it = customer_columns().find(f.name); it != customer_columns().end()) {
          bool ok = type == it->second || (it->second.kind == TypeKind::Int && type.kind == TypeKind::Int);
          if (!ok)
            diags.error(m.file, f.value->span, code::type,
                        fmt::format("customer column '{}' is {}, not {}", f.name, type_name(it->second), type_name(type)),
                        it->second.kind == TypeKind::Bool ? fmt::format("write {} true", f.name)
                        : it->second.kind == TypeKind::Date ? fmt::format("write {} 1990-02-28", f.name)
                                                            : std::string());
          continue;
        }
        if (is_keyword(f.name)) {
          diags.error(m.file, f.name_span, code::test_column, fmt::format("'{}' is a keyword and cannot be a customer column", f.name),
                      "facts are order, subscription, survey, referral, tag, event, or a column: NAME VALUE");
          continue;
        }
        if (stdlib::find_attribute(f.name)) {
          diags.error(m.file, f.name_span, code::test_column,
                      fmt::format("'{}' is a built-in attribute computed from the facts; it cannot be set as a column", f.name),
                      "give the facts it is computed from instead (orders, subscriptions, surveys, ...)");
          continue;
        }
        auto [it, fresh] = seen.try_emplace(f.name, Seen{type, m.file, f.value->span});
        if (fresh) {
          auto known = std::find_if(options.extra_attributes.begin(), options.extra_attributes.end(),
                                    [&](const CheckOptions::Extra& x) { return x.name == f.name; });
          if (known == options.extra_attributes.end()) out.push_back({f.name, type});
          continue;
        }
        Type& have = it->second.type;
        if (have == type) continue;
        if (have.is_numeric() && type.is_numeric()) {  // 3 and 4.5: the column is decimal
          have = Type::decimal();
          for (auto& x : out)
            if (x.name == f.name) x.type = have;
          continue;
        }
        auto& d = diags.error(m.file, f.value->span, code::test_column,
                              fmt::format("column '{}' is {} here but {} for another customer", f.name, type_name(type),
                                          type_name(have)),
                              "a column has one type in every test of the file");
        d.notes.push_back({it->second.file, it->second.span, "first given here"});
      }
    }
  });
  return out;
}

void check_tests(const CheckedProgram& prog, const std::vector<bool>& given, Diagnostics& diags) {
  std::vector<std::string> messages, rules;
  for (const auto* m : prog.messages) messages.push_back(m->name);
  for (const auto& r : prog.rules) rules.push_back(r.name);
  // Names each action kind can produce: coupons, offers, tags, untags.
  std::map<ActionKind, std::set<std::string>> produced;
  for (const auto& r : prog.rules)
    if (r.actions)
      for (const auto& a : *r.actions) produced[a.kind].insert(a.name);

  std::map<const SourceFile*, std::map<std::string, const Test*>> names;
  for_each_test(prog.modules, given, [&](const Module& m, const Test& t) {
    const SourcePtr& file = m.file;
    auto [prev, fresh] = names[file.get()].try_emplace(t.name, &t);
    if (!fresh) {
      auto& d = diags.error(file, t.name_span, code::duplicate_test, fmt::format("two tests are named \"{}\"", t.name),
                            "give each test of a file its own name");
      d.notes.push_back({file, prev->second->name_span, "previous test here"});
    }
    // The day or the range.
    if (t.dates.empty()) {
      diags.error(file, t.name_span, code::test_dates, fmt::format("test \"{}\" has no day to run", t.name),
                  "add 'on DATE' or 'from DATE to DATE' (an 'on DATE' after an expectation belongs to it: put the "
                  "test's day before the expectations)");
    }
    for (size_t i = 1; i < t.dates.size(); ++i) {
      auto& d = diags.error(file, t.dates[i].span, code::test_dates, fmt::format("test \"{}\" has more than one day or range", t.name),
                            "a test runs one 'on DATE' or one 'from DATE to DATE'");
      d.notes.push_back({file, t.dates[0].span, "first given here"});
    }
    Days from = 0, to = 0;
    bool has_dates = !t.dates.empty();
    if (has_dates) {
      from = t.dates[0].from;
      to = t.dates[0].to;
      if (from > to)
        diags.error(file, t.dates[0].span, code::test_dates,
                    fmt::format("the range ends ({}) before it starts ({})", format_date(to), format_date(from)),
                    "write from EARLIER to LATER");
    }
    // Customers.
    std::map<int64_t, const TestCustomer*> ids;
    std::map<int64_t, Span> order_ids;
    for (const auto& c : t.customers) {
      auto [it, fresh_id] = ids.try_emplace(c.id, &c);
      if (!fresh_id) {
        auto& d = diags.error(file, c.id_span, code::duplicate_customer,
                              fmt::format("customer {} is declared twice in test \"{}\"", c.id, t.name),
                              "put all of a customer's facts in one block");
        d.notes.push_back({file, it->second->id_span, "first declared here"});
      }
      std::map<std::string, Span> columns;
      for (const auto& f : c.facts) {
        if (f.kind == TestFact::Kind::Column) {
          auto [cit, fresh] = columns.try_emplace(f.name, f.name_span);
          if (!fresh) {
            auto& d = diags.error(file, f.name_span, code::duplicate_fact,
                                  fmt::format("'{}' is given twice for customer {}", f.name, c.id), "keep one of them");
            d.notes.push_back({file, cit->second, "first given here"});
          }
        } else if (f.kind == TestFact::Kind::Order && f.id) {
          auto [oit, fresh] = order_ids.try_emplace(*f.id, f.span);
          if (!fresh) {
            auto& d = diags.error(file, f.span, code::duplicate_fact, fmt::format("two orders have id {}", *f.id),
                                  "order ids are unique in a test; leave 'id' out to number them");
            d.notes.push_back({file, oit->second, "first given here"});
          }
        } else if (f.kind == TestFact::Kind::Subscription && f.cancelled && f.date && *f.cancelled < *f.date) {
          diags.error(file, f.span, code::test_dates, "the subscription is cancelled before it starts", "");
        } else if (f.kind == TestFact::Kind::Survey && (f.satisfaction < 1 || f.satisfaction > 5)) {
          diags.warning(file, f.span, code::survey_range,
                        fmt::format("satisfaction {} is outside the usual 1..5", f.satisfaction), "");
        }
      }
    }
    std::vector<std::string> declared;
    for (const auto& [id, c] : ids) declared.push_back(std::to_string(id));
    // Expectations.
    for (const auto& e : t.expects) {
      if (e.to && !ids.count(*e.to))
        diags.error(file, e.to_span, code::unknown_customer,
                    fmt::format("customer {} is not declared in test \"{}\"", *e.to, t.name),
                    declared.empty() ? std::string("declare it: customer ID { ... }")
                                     : fmt::format("the test declares customer{} {}", declared.size() > 1 ? "s" : "",
                                                   fmt::join(declared, ", ")));
      if (e.on && has_dates && from <= to && (*e.on < from || *e.on > to))
        diags.error(file, e.span, code::test_dates,
                    fmt::format("the expectation is on {}, outside the test's days ({}{})", format_date(*e.on),
                                format_date(from), from == to ? std::string() : " to " + format_date(to)),
                    "an expectation can only see the days the test runs");
      if (!e.rule.empty() && std::find(rules.begin(), rules.end(), e.rule) == rules.end()) {
        std::string best = closest_match(e.rule, rules);
        if (best.empty()) {  // "dormant_90" or "dormnt_90" for "winback.dormant_90"
          std::vector<std::string> last;
          for (const auto& r : rules) last.push_back(r.substr(r.rfind('.') + 1));
          std::string m = closest_match(e.rule.substr(e.rule.rfind('.') + 1), last);
          for (size_t k = 0; k < rules.size() && !m.empty(); ++k)
            if (last[k] == m) {
              best = rules[k];
              break;
            }
        }
        diags.error(file, e.rule_span, code::unknown_rule, fmt::format("unknown rule '{}'", e.rule),
                    best.empty() ? std::string("rules are named as in the JSON lines, e.g. 'campaign.rule'")
                                 : fmt::format("did you mean '{}'?", best));
      }
      if (e.no_actions) continue;
      if (e.via && e.action != ActionKind::Send)
        diags.error(file, e.span, code::syntax, fmt::format("'via' applies to send only, not to {}", action_name(e.action)), "");
      if (e.times && e.status.empty() && *e.times == 0)
        diags.warning(file, e.times_span, code::times_zero, "'times 0' is an expected absence",
                      fmt::format("write expect no {} {}", action_name(e.action), e.target));
      if (e.action == ActionKind::Send) {
        if (!prog.find_message(e.target)) {
          std::string best = closest_match(e.target, messages);
          diags.error(file, e.target_span, code::unknown_message, fmt::format("unknown message '{}'", e.target),
                      best.empty() ? std::string("the script declares no such message")
                                   : fmt::format("did you mean '{}'?", best));
        }
      } else if (e.action != ActionKind::Points) {
        const auto& names = produced[e.action];
        if (!names.count(e.target)) {
          std::vector<std::string> cands(names.begin(), names.end());
          std::string best = closest_match(e.target, cands);
          const char* what = e.action == ActionKind::Coupon ? "grants coupon"
                             : e.action == ActionKind::Offer ? "makes offer"
                             : e.action == ActionKind::Tag   ? "sets tag"
                                                             : "removes tag";
          diags.error(file, e.target_span, code::unknown_target, fmt::format("no rule {} '{}'", what, e.target),
                      best.empty() ? std::string("the expectation could never match; check the name")
                                   : fmt::format("did you mean '{}'?", best));
        }
      }
    }
  });
}

}  // namespace crm::lang::detail
