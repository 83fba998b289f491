// crm explain FILE --db STORE --customer ID [--date D]: for each rule, whether it fired for one
// customer and why — the value of every sub-condition, or what blocked it.
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "engine/run.hpp"
#include "lang/formatter.hpp"

namespace crm::cli {
namespace {

using engine::Truth;

std::string truth_text(Truth t) { return t == Truth::True ? "true" : t == Truth::False ? "false" : "unknown"; }

std::string value_text(const engine::Explanation& e) {
  if (e.type == lang::TypeKind::Bool) return e.value.is_null() ? "unknown" : e.value.to_string(true);
  return e.value.to_string();
}

// Names of attributes whose null value made something unknown.
void null_names(const engine::Explanation& e, std::vector<std::string>& out) {
  if (e.expr && e.expr->kind == lang::Expr::Kind::Name && e.value.is_null() && !e.definition) {
    if (std::find(out.begin(), out.end(), e.expr->text) == out.end()) out.push_back(e.expr->text);
    return;
  }
  for (const auto& c : e.children) null_names(c, out);
}

void print_tree(std::string& out, const engine::Explanation& e, int depth) {
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
  std::vector<const engine::Explanation*> items;
  auto flatten = [&](auto&& self, const engine::Explanation& n) -> void {
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

std::string reason(const engine::RuleTrace& t, const lang::FlatRule& r) {
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
    return "not fired: the condition is unknown (not true)" + (names.empty() ? "" : " because " + list + (names.size() > 1 ? " are null" : " is null"));
  }
  if (!t.actions.empty()) return "not fired: every action was blocked or held out";
  return "not fired: no action to take";
}

}  // namespace

int cmd_explain(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm explain FILE --db STORE --customer ID [--date D] [--format text|jsonl]\n\n"
      "Shows, for one customer on one day (default: today), each rule in evaluation order: whether\n"
      "it fired, and why — the value of every sub-condition (true, false, or unknown because an\n"
      "attribute is null), or what blocked it: once/every/after, holdout, consent, a cap.\n"
      "Nothing is written to the store.\n\n"
      "Options:\n"
      "  --db STORE       the SQLite store\n"
      "  --customer ID    the customer's id\n"
      "  --date D         the evaluation date (YYYY-MM-DD), default today in the run's time zone\n"
      "  --format F       text (default) or jsonl (one object per rule)\n"
      "  --help           show this help\n\n"
      "Example:\n  crm explain examples/campaigns/playbook.crm --db shop.db --customer 42 --date 2026-11-24\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--customer", "--date", "--format"}}, error);
  if (!args) return usage_error("explain", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.size() != 1) return usage_error("explain", "expected exactly one script FILE");
  auto db = args->option("--db");
  auto cust = args->option("--customer");
  if (!db) return usage_error("explain", "missing --db STORE");
  if (!cust) return usage_error("explain", "missing --customer ID");
  int64_t customer = 0;
  try {
    size_t pos = 0;
    customer = std::stoll(*cust, &pos);
    if (pos != cust->size()) throw std::invalid_argument("x");
  } catch (...) {
    return usage_error("explain", "--customer '" + *cust + "' is not an integer id");
  }
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "jsonl") return usage_error("explain", "--format must be text or jsonl");
  std::optional<Days> date;
  if (!date_option(*args, "--date", date, error)) return usage_error("explain", error);
  int code = kExitOk;
  auto setup = prepare_run("explain", args->positional[0], *db, code);
  if (!setup) return code;
  if (!load_and_compile(*setup, code)) return code;
  if (!setup->facts->row_of(customer)) {
    fmt::print(stderr, "crm explain: error: no customer with id {} in {}\n", customer, *db);
    return kExitError;
  }
  Days d = date ? *date : engine::today_in(setup->tz);
  engine::Runner runner(setup->script.program, setup->script.graph, *setup->program, *setup->facts);
  runner.load_history_from_outbox();
  std::vector<engine::RuleTrace> traces;
  runner.evaluate_day(d, customer, &traces);

  std::string out;
  if (format == "text")
    out += fmt::format("customer {} on {}: {} rule(s), in evaluation order\n", customer, format_date(d), traces.size());
  for (const auto& t : traces) {
    const lang::FlatRule& r = setup->script.program.rules[t.rule];
    if (format == "jsonl") {
      std::string line = "{\"date\":\"" + format_date(d) + "\",\"customer\":" + std::to_string(customer) + ",\"rule\":";
      engine::append_json_string(line, r.name);
      line += fmt::format(",\"fired\":{},\"condition\":", t.fired ? "true" : "false");
      if (!t.evaluated) line += "null";
      else line += fmt::format("\"{}\"", truth_text(t.condition));
      line += ",\"reason\":";
      engine::append_json_string(line, reason(t, r));
      line += ",\"actions\":[";
      for (size_t i = 0; i < t.actions.size(); ++i) {
        if (i) line += ',';
        line += engine::to_json_line(t.actions[i]);
      }
      line += "]}\n";
      out += line;
      continue;
    }
    out += fmt::format("\n{}: {}\n", r.name, reason(t, r));
    for (const auto& a : t.actions) {
      std::string what = std::string(lang::action_name(a.kind)) + " " + a.target;
      if (a.channel) what += std::string(" via ") + lang::channel_name(*a.channel);
      out += fmt::format("  {} -> {}\n", what, engine::status_name(a.status));
    }
    for (const auto& e : t.explanation) print_tree(out, e, 1);
  }
  fmt::print("{}", out);
  return kExitOk;
}

}  // namespace crm::cli
