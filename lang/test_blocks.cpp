// The `test "NAME" { ... }` blocks of a .crm file (docs/testing.md): their parse trees converted
// to the AST's Test (fixture customers and facts, dates, expectations), with the checks that
// need only the text (status words, duplicate qualifiers). Part of the Parser (parser_impl.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lang/diagnostic_codes.hpp"
#include "lang/parser_impl.hpp"
#include "lang/parser_support.hpp"

namespace crm::lang::parser_detail {

Test Parser::test(const Node& n, Span sp) {
  Test t;
  t.span = sp;
  for (const auto& ch : n.children) {
    const Node& c = *ch;
    Span csp{begin(c), last_end(c, begin(c))};
    if (c.is_type<g::string_lit>()) {
      t.name = decode_string(c);
      t.name_span = span(c);
    } else if (c.is_type<g::customer_decl>()) {
      TestCustomer cu;
      cu.span = csp;
      for (const auto& f : c.children) {
        if (f->is_type<g::int_lit>()) {
          cu.id = int_value(*f);
          cu.id_span = span(*f);
        } else {
          cu.facts.push_back(test_fact(*f));
        }
      }
      t.customers.push_back(std::move(cu));
    } else if (c.is_type<g::test_on>() || c.is_type<g::test_range>()) {
      TestDates d;
      d.span = csp;
      d.range = c.is_type<g::test_range>();
      std::vector<int32_t> days;
      for (const auto& f : c.children) days.push_back(static_cast<int32_t>(date_value(*f)));
      if (!days.empty()) d.from = d.to = days.front();
      if (days.size() > 1) d.to = days[1];
      t.dates.push_back(d);
    } else if (c.is_type<g::expect_decl>()) {
      t.expects.push_back(test_expect(c, csp));
    }
  }
  return t;
}

int32_t Parser::child_date(const Node& n) {
  const Node* c = first_child(n);
  return c ? static_cast<int32_t>(date_value(*c)) : 0;
}

std::string Parser::status_word(const Node& n, const std::vector<std::string>& allowed, const char* what) {
  std::string w = word(n);
  if (std::find(allowed.begin(), allowed.end(), w) == allowed.end()) {
    std::string m = closest_match(w, allowed);
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i) list += (i ? (i + 1 == allowed.size() ? " or " : ", ") : "") + allowed[i];
    diags_.error(file_, word_span(n), code::syntax, fmt::format("unknown {} status '{}'; it is {}", what, w, list),
                 m.empty() ? "" : "did you mean '" + m + "'?");
  }
  return w;
}

TestFact Parser::test_fact(const Node& n) {
  TestFact f;
  f.span = {begin(n), last_end(n, begin(n))};
  static const std::vector<std::string> kOrderStatus = {"paid", "cancelled", "refunded"};
  static const std::vector<std::string> kSubStatus = {"active", "paused", "cancelled"};
  if (n.is_type<g::column_fact>()) {
    f.kind = TestFact::Kind::Column;
    for (const auto& c : n.children) {
      if (c->is_type<g::column_name>()) {
        f.name = word(*c);
        f.name_span = word_span(*c);
      } else if (is_expr(*c)) {
        f.value = expr(*c);
      }
    }
  } else if (n.is_type<g::order_fact>()) {
    f.kind = TestFact::Kind::Order;
    for (const auto& c : n.children) {
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (c->is_type<g::order_total>() && first_child(*c)) f.total = expr(*first_child(*c));
      else if (c->is_type<g::order_status>() && first_child(*c)) {
        f.status = status_word(*first_child(*c), kOrderStatus, "order");
        f.status_span = word_span(*first_child(*c));
      } else if (c->is_type<g::order_items>()) {
        for (const auto& sku : c->children) f.items.push_back(decode_string(*sku));
      } else if (c->is_type<g::order_id>() && first_child(*c)) {
        f.id = int_value(*first_child(*c));
      }
    }
  } else if (n.is_type<g::subscription_fact>()) {
    f.kind = TestFact::Kind::Subscription;
    for (const auto& c : n.children) {
      const Node* v = first_child(*c);
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (!v) continue;
      else if (c->is_type<g::sub_status>()) {
        f.status = status_word(*v, kSubStatus, "subscription");
        f.status_span = word_span(*v);
      } else if (c->is_type<g::sub_cycles>()) f.cycles = int_value(*v);
      else if (c->is_type<g::sub_cancelled>()) f.cancelled = static_cast<int32_t>(date_value(*v));
      else if (c->is_type<g::sub_reason>()) f.reason = decode_string(*v);
      else if (c->is_type<g::sub_product>()) f.product = decode_string(*v);
    }
  } else if (n.is_type<g::survey_fact>()) {
    f.kind = TestFact::Kind::Survey;
    for (const auto& c : n.children) {
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (c->is_type<g::int_lit>()) f.satisfaction = int_value(*c);
    }
  } else if (n.is_type<g::referral_fact>()) {
    f.kind = TestFact::Kind::Referral;
    for (const auto& c : n.children) {
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (c->is_type<g::int_lit>()) {
        f.referee = int_value(*c);
        f.referee_span = span(*c);
      }
    }
  } else if (n.is_type<g::tag_fact>()) {
    f.kind = TestFact::Kind::Tag;
    for (const auto& c : n.children) {
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (c->is_type<g::tag_name>()) {
        f.name = word(*c);
        f.name_span = word_span(*c);
      }
    }
  } else if (n.is_type<g::event_fact>()) {
    f.kind = TestFact::Kind::Event;
    for (const auto& c : n.children) {
      if (c->is_type<g::date_lit>()) f.date = static_cast<int32_t>(date_value(*c));
      else if (c->is_type<g::event_type>()) {
        f.name = word(*c);
        f.name_span = word_span(*c);
      } else if (c->is_type<g::event_field>()) {
        std::string field;
        ExprPtr value;
        for (const auto& fc : c->children) {
          if (fc->is_type<g::field_name>()) field = word(*fc);
          else if (is_expr(*fc)) value = expr(*fc);
        }
        f.fields.emplace_back(std::move(field), std::move(value));
      }
    }
  }
  return f;
}

TestExpect Parser::test_expect(const Node& n, Span sp) {
  TestExpect e;
  e.span = sp;
  std::set<std::string> seen;
  for (const auto& ch : n.children) {
    const Node& c = *ch;
    if (c.is_type<g::expect_no>()) {
      e.absent = true;
      continue;
    }
    if (c.is_type<g::no_actions>()) {
      e.absent = e.no_actions = true;
      continue;
    }
    if (c.is_type<g::expect_send>() || c.is_type<g::expect_coupon>() || c.is_type<g::expect_points>() ||
        c.is_type<g::expect_offer>() || c.is_type<g::expect_tag>() || c.is_type<g::expect_untag>()) {
      e.action = c.is_type<g::expect_send>()     ? ActionKind::Send
                 : c.is_type<g::expect_coupon>() ? ActionKind::Coupon
                 : c.is_type<g::expect_points>() ? ActionKind::Points
                 : c.is_type<g::expect_offer>()  ? ActionKind::Offer
                 : c.is_type<g::expect_tag>()    ? ActionKind::Tag
                                                 : ActionKind::Untag;
      if (const Node* v = first_child(c)) {
        if (v->is_type<g::number>()) {
          e.target = std::string(v->string_view());
          e.target_span = span(*v);
          e.points = decimal_value(*v);
        } else {
          e.target = word(*v);
          e.target_span = word_span(*v);
        }
      }
      continue;
    }
    // A qualifier: each at most once.
    std::string q = c.is_type<g::q_status>() ? "status" : word(c);
    if (!seen.insert(q).second) {
      diags_.error(file_, word_span(c), code::duplicate_clause, fmt::format("'{}' is given twice in the expectation", q == "status" ? word(c) : q),
                   "each qualifier (to, via, on, rule, status, times, subject) is written at most once");
      continue;
    }
    const Node* v = first_child(c);
    if (e.no_actions && !c.is_type<g::q_to>() && !c.is_type<g::q_on>()) {
      diags_.error(file_, word_span(c), code::syntax, fmt::format("'expect no actions' takes only 'to ID' and 'on DATE', not '{}'", word(c)),
                   "write expect no actions to 2 on 2026-04-02");
      continue;
    }
    if (c.is_type<g::q_status>()) {
      e.status = word(c);
    } else if (!v) {
      continue;
    } else if (c.is_type<g::q_to>()) {
      e.to = int_value(*v);
      e.to_span = span(*v);
    } else if (c.is_type<g::q_via>()) {
      e.via = channel(*v, false);
    } else if (c.is_type<g::q_on>()) {
      e.on = static_cast<int32_t>(date_value(*v));
    } else if (c.is_type<g::q_rule>()) {
      e.rule = std::string(v->string_view());
      e.rule_span = span(*v);
    } else if (c.is_type<g::q_subject>()) {
      e.subject = decode_string(*v);
      if (e.action != ActionKind::Send || e.absent)
        diags_.error(file_, word_span(c), code::syntax, "'subject' qualifies an expected send only",
                     "write expect send MESSAGE subject \"the rendered text\"");
    } else if (c.is_type<g::q_times>()) {
      e.times = int_value(*v);
      e.times_span = span(*v);
      if (e.absent)
        diags_.error(file_, word_span(c), code::syntax, "'expect no' takes no 'times'",
                     "an absence means zero times; write 'expect ... times 0' or drop 'times'");
    }
  }
  return e;
}

}  // namespace crm::lang::parser_detail
