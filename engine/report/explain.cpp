// `crm explain` output: reasons, the sub-condition tree, text and JSON lines.
#include "engine/report/explain.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "lang/formatter.hpp"
#include "lang/terminal_safe.hpp"

namespace crm::engine {
namespace {

std::string value_text(const Explanation& e) {
  if (e.type == lang::TypeKind::Bool) return e.value.is_null() ? "unknown" : e.value.to_string(true);
  return e.value.to_string();
}

// Names of attributes whose null value made something unknown.
void null_names(const Explanation& e, std::vector<std::string>& out) {
  if (e.expr && e.expr->kind == lang::Expr::Kind::Name && e.value.is_null() && !e.definition) {
    if (std::find(out.begin(), out.end(), e.expr->text) == out.end()) out.push_back(e.expr->text);
    return;
  }
  for (const auto& c : e.children) null_names(c, out);
}

void print_tree(std::string& out, const Explanation& e, int depth) {
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  std::string text = e.expr ? lang::format_expr(*e.expr) : "?";
  bool leaf_name = e.expr && e.expr->kind == lang::Expr::Kind::Name && !e.definition;
  bool literal = e.expr && e.expr->kind != lang::Expr::Kind::Name && e.expr->kind != lang::Expr::Kind::Call &&
                 e.expr->kind != lang::Expr::Kind::Unary && e.expr->kind != lang::Expr::Kind::Binary &&
                 e.expr->kind != lang::Expr::Kind::IsNull;
  if (literal) return;  // constants explain themselves
  if (leaf_name)
    out += fmt::format("{}{} = {}\n", indent, text, e.value.to_string());
  else
    out += fmt::format("{}{}  => {}\n", indent, text, value_text(e));
  // A chain `a and b and c` (or `or`) is listed as siblings, not as nested pairs.
  std::vector<const Explanation*> items;
  auto flatten = [&](auto&& self, const Explanation& n) -> void {
    for (const auto& c : n.children) {
      bool same_chain = e.expr && c.expr && e.expr->kind == lang::Expr::Kind::Binary &&
                        c.expr->kind == lang::Expr::Kind::Binary && c.expr->bop == e.expr->bop &&
                        (e.expr->bop == lang::BinOp::And || e.expr->bop == lang::BinOp::Or) && !c.definition;
      if (same_chain) self(self, c);
      else items.push_back(&c);
    }
  };
  flatten(flatten, e);
  for (const auto* c : items) print_tree(out, *c, depth + 1);
}

// The truth of a bool sub-condition: 1 true, 0 false, -1 unknown (null).
int truth_of(const Explanation& e) {
  if (e.value.is_null()) return -1;
  return e.value.kind == Value::Kind::Bool && e.value.i != 0 ? 1 : 0;
}

// The first sub-condition that is not true, descending into `and` chains and definitions; a
// comparison, `or`, `not` or call is reported whole.
const Explanation* first_not_true(const Explanation& e) {
  if (e.definition && e.children.size() == 1 && e.type == lang::TypeKind::Bool) return first_not_true(e.children[0]);
  if (e.expr && e.expr->kind == lang::Expr::Kind::Binary && e.expr->bop == lang::BinOp::And)
    for (const auto& c : e.children)
      if (truth_of(c) != 1) return first_not_true(c);
  return &e;
}

// "satisfaction = null, tags = []": the attributes under a sub-condition, once each.
void leaf_values(const Explanation& e, std::vector<std::string>& out) {
  // A call on literals only (purchases_in(30), today) shows its value; others show their arguments.
  bool value_call = e.expr && e.expr->kind == lang::Expr::Kind::Call && e.type != lang::TypeKind::Bool &&
                    std::all_of(e.expr->args.begin(), e.expr->args.end(), [](const lang::ExprPtr& a) {
                      return a && a->kind != lang::Expr::Kind::Name && a->kind != lang::Expr::Kind::Call &&
                             a->kind != lang::Expr::Kind::Unary && a->kind != lang::Expr::Kind::Binary;
                    });
  if (value_call) {
    std::string s = lang::format_expr(*e.expr) + " = " + e.value.to_string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    return;
  }
  if (e.expr && e.expr->kind == lang::Expr::Kind::Name && !e.definition) {
    std::string s = e.expr->text + " = " + e.value.to_string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    return;
  }
  for (const auto& c : e.children) leaf_values(c, out);
}

std::string actions_text(const RuleTrace& t) {
  std::string out;
  for (const auto& a : t.actions) {
    std::string what = std::string(lang::action_name(a.kind)) + " " + std::string(a.target);
    if (a.channel) what += std::string(" via ") + lang::channel_name(*a.channel);
    out += (out.empty() ? "" : ", ") + what + " -> " + status_name(a.status);
  }
  return out;
}

}  // namespace

const char* truth_name(Truth t) { return t == Truth::True ? "true" : t == Truth::False ? "false" : "unknown"; }

std::string explain_reason(const RuleTrace& t, const lang::FlatRule& r) {
  std::string base = explain_base_reason(t, r);
  for (size_t i = 0; i < t.instances.size(); ++i) base += (i ? "; " : ": ") + t.instances[i];
  return base;
}

std::string explain_base_reason(const RuleTrace& t, const lang::FlatRule& r) {
  if (r.journey && t.skipped) {  // the instances say the rest (RuleTrace::instances)
    if (t.fired) return "FIRED (a journey step due today)";
    if (!t.actions.empty()) return "not fired: every action was blocked or held out";
    return t.instances.empty() ? "not fired: no live instance of journey '" + r.journey->name + "' for this customer"
                               : "not fired";
  }
  if (t.skipped && t.fired)  // its actions came from the day's events (docs/events.md)
    return r.journey ? "FIRED (a journey step due today)" : "FIRED on event '" + r.event + "'";
  if (t.skipped && !t.actions.empty()) return "not fired: every action was blocked or held out";
  if (t.skipped)
    return r.journey ? "not fired: no live instance has this step due today with its condition true and its unless not true"
                     : "not fired: no '" + r.event + "' event of this customer made it true today";
  if (t.fired) return "FIRED";
  if (!t.blocked.empty()) return "not fired: " + t.blocked;
  if (t.condition == Truth::False) return "not fired: the condition is false";
  if (t.condition == Truth::Unknown) {
    std::vector<std::string> names;
    for (const auto& e : t.explanation) null_names(e, names);
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
    return "not fired: the condition is unknown (not true)" +
           (names.empty() ? "" : " because " + list + (names.size() > 1 ? " are null" : " is null"));
  }
  if (!t.actions.empty()) return "not fired: every action was blocked or held out";
  return "not fired: no action to take";
}

std::string explain_tree(const RuleTrace& t, int depth) {
  std::string out;
  for (const auto& e : t.explanation) print_tree(out, e, depth);
  return out;
}

std::string explain_text(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                         Days d) {
  std::string out =
      fmt::format("customer {} on {}: {} rule(s), in evaluation order\n", customer, format_date(d), traces.size());
  for (const auto& t : traces) {
    const lang::FlatRule& r = program.rules[t.rule];
    out += fmt::format("\n{}: {}\n", r.name, explain_base_reason(t, r));
    for (const auto& in : t.instances) out += "  " + in + "\n";
    for (const auto& a : t.actions) {
      std::string what = std::string(lang::action_name(a.kind)) + " " + std::string(a.target);
      if (a.channel) what += std::string(" via ") + lang::channel_name(*a.channel);
      out += fmt::format("  {} -> {}\n", what, status_name(a.status));
    }
    out += explain_tree(t, 1);
  }
  return lang::terminal_safe(out);  // values come from customer data
}

std::string explain_summary(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                            Days d) {
  size_t fired = 0, width = 0;
  for (const auto& t : traces) {
    fired += t.fired;
    width = std::max(width, program.rules[t.rule].name.size());
  }
  std::string out = fmt::format("customer {} on {}: {} rule(s), {} fired (--full shows every sub-condition)\n\n",
                                customer, format_date(d), traces.size(), fired);
  for (const auto& t : traces) {
    const lang::FlatRule& r = program.rules[t.rule];
    std::string line = explain_base_reason(t, r);
    if (!t.fired && t.blocked.empty() && !t.skipped && t.evaluated && t.condition != Truth::True && !t.explanation.empty()) {
      // "the condition is false: satisfaction >= 4 (satisfaction = 2)"
      const Explanation* root = &t.explanation.front();
      for (const auto& e : t.explanation)
        if (truth_of(e) != 1) {
          root = &e;
          break;
        }
      const Explanation* x = first_not_true(*root);
      std::vector<std::string> leaves;
      leaf_values(*x, leaves);
      std::string list;
      for (size_t i = 0; i < leaves.size(); ++i) list += (i ? ", " : "") + leaves[i];
      line = fmt::format("not fired: {} is {}", x->expr ? lang::format_expr(*x->expr) : "?", truth_of(*x) < 0 ? "unknown" : "false");
      if (!list.empty() && !(x->expr && x->expr->kind == lang::Expr::Kind::Name && !x->definition)) line += " (" + list + ")";
    }
    if (!t.actions.empty()) line += " [" + actions_text(t) + "]";
    out += fmt::format("{:<{}}  {}\n", r.name, width, line);
    for (const auto& in : t.instances) out += fmt::format("{:<{}}    {}\n", "", width, in);
  }
  return lang::terminal_safe(out);
}

std::string explain_jsonl(const lang::CheckedProgram& program, const std::vector<RuleTrace>& traces, int64_t customer,
                          Days d) {
  std::string out;
  for (const auto& t : traces) {
    const lang::FlatRule& r = program.rules[t.rule];
    std::string line = "{\"date\":\"" + format_date(d) + "\",\"customer\":" + std::to_string(customer) + ",\"rule\":";
    append_json_string(line, r.name);
    line += fmt::format(",\"fired\":{},\"condition\":", t.fired ? "true" : "false");
    if (!t.evaluated) line += "null";
    else line += fmt::format("\"{}\"", truth_name(t.condition));
    line += ",\"reason\":";
    append_json_string(line, explain_reason(t, r));
    line += ",\"actions\":[";
    for (size_t i = 0; i < t.actions.size(); ++i) {
      if (i) line += ',';
      line += to_json_line(t.actions[i]);
    }
    line += "]}\n";
    out += line;
  }
  return out;
}

}  // namespace crm::engine
