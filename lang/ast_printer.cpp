// dump_ast: the indented S-expression view of a Module printed by `crm check --dump-ast`.
// Expressions print inline; declarations, actions and options one per line.
#include "lang/ast_printer.hpp"

#include <fmt/format.h>

#include "lang/date.hpp"
#include "lang/formatter.hpp"

namespace crm::lang {

namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out + "\"";
}

class Printer {
 public:
  std::string out;

  // Closes the S-expression of the last line: "...\n" -> "...)\n".
  void close() {
    if (!out.empty() && out.back() == '\n') out.pop_back();
    out += ")\n";
  }

  void line(int indent, const std::string& s) {
    out.append(static_cast<size_t>(indent) * 2, ' ');
    out += s;
    out += '\n';
  }

  void action(int ind, const Action& a) {
    std::string s = fmt::format("({}", action_name(a.kind));
    if (a.kind == ActionKind::Points) s += fmt::format(" {}", dump_expr(a.points.get()));
    else s += fmt::format(" {}", a.name);
    if (a.channel) s += fmt::format(" (via {})", channel_name(*a.channel));
    line(ind, s + ")");
  }

  void option(int ind, const Option& o) {
    switch (o.kind) {
      case OptionKind::Once: line(ind, "(once)"); break;
      case OptionKind::OncePer: line(ind, fmt::format("(once-per {})", dump_expr(o.expr.get()))); break;
      case OptionKind::Every: line(ind, fmt::format("(every {} days)", o.n)); break;
      case OptionKind::Priority: line(ind, fmt::format("(priority {})", o.n)); break;
      case OptionKind::After:
        line(ind, o.n >= 0 ? fmt::format("(after {} {} days)", o.name, o.n) : fmt::format("(after {})", o.name));
        break;
      case OptionKind::From: line(ind, fmt::format("(from {})", format_date(o.date))); break;
      case OptionKind::Until: line(ind, fmt::format("(until {})", format_date(o.date))); break;
      case OptionKind::Holdout: line(ind, fmt::format("(holdout {}%)", o.text)); break;
    }
  }

  void item(int ind, const Item& it) {
    std::visit([&](const auto& n) { node(ind, n); }, it.node);
  }

  void node(int ind, const Import& n) { line(ind, fmt::format("(import {})", quote(n.path))); }
  void node(int ind, const Definition& n) {
    line(ind, fmt::format("({} {} {})", n.segment ? "segment" : "let", n.name, dump_expr(n.expr.get())));
  }
  void node(int ind, const Message& n) {
    std::string s = fmt::format("(message {}", n.name);
    if (n.channel) s += fmt::format(" (via {})", channel_name(*n.channel));
    if (n.subject) s += fmt::format(" (subject {})", quote(*n.subject));
    if (n.cost) s += fmt::format(" (cost {})", n.cost_text);
    if (n.transactional) s += " transactional";
    line(ind, s + ")");
  }
  void node(int ind, const Rule& n) {
    std::string head = fmt::format("(rule {}", n.name.empty() ? std::string("_") : n.name);
    if (!n.event.empty()) head += fmt::format(" (on {})", n.event);
    line(ind, head);
    line(ind + 1, fmt::format("(when {})", dump_expr(n.when.get())));
    for (const auto& a : n.actions) action(ind + 1, a);
    for (const auto& o : n.options) option(ind + 1, o);
    close();
  }
  void node(int ind, const Journey& n) {
    line(ind, fmt::format("(journey {} (on {})", n.name, n.event));
    if (n.when) line(ind + 1, fmt::format("(when {})", dump_expr(n.when.get())));
    for (const auto& s : n.steps) {
      line(ind + 1, fmt::format("(day {}", s.day));
      for (const auto& a : s.actions) action(ind + 2, a);
      if (s.unless) line(ind + 2, fmt::format("(unless {})", dump_expr(s.unless.get())));
      close();
    }
    if (n.exit_when) line(ind + 1, fmt::format("(exit-when {})", dump_expr(n.exit_when.get())));
    for (const auto& o : n.options) option(ind + 1, o);
    close();
  }
  void node(int ind, const Campaign& n) {
    line(ind, fmt::format("(campaign {}", n.name));
    if (n.when) line(ind + 1, fmt::format("(when {})", dump_expr(n.when.get())));
    for (const auto& it : n.items) item(ind + 1, it);
    close();
  }
  void node(int ind, const Option& n) { option(ind, n); }
  void node(int ind, const Limit& n) {
    line(ind, fmt::format("(limit {} {} per {} days)", n.count, n.channel ? channel_name(*n.channel) : "message", n.days));
  }
  void node(int ind, const Timezone& n) { line(ind, fmt::format("(timezone {})", quote(n.name))); }
  void node(int ind, const Test& n) {
    line(ind, fmt::format("(test {}", quote(n.name)));
    for (const auto& c : n.customers) {
      line(ind + 1, fmt::format("(customer {}", c.id));
      for (const auto& f : c.facts) line(ind + 2, fmt::format("({})", test_fact_text(f)));
      close();
    }
    for (const auto& d : n.dates)
      line(ind + 1, d.range ? fmt::format("(from {} to {})", format_date(d.from), format_date(d.to))
                            : fmt::format("(on {})", format_date(d.from)));
    for (const auto& e : n.expects) line(ind + 1, "(expect " + test_expect_text(e, false) + ")");
    close();
  }
};

}  // namespace

std::string dump_expr(const Expr* e) {
  if (!e) return "<none>";
  switch (e->kind) {
    case Expr::Kind::Int: return std::to_string(e->ival);
    case Expr::Kind::Decimal: return e->text.empty() ? fmt::format("{}", e->dval) : e->text;
    case Expr::Kind::String: return quote(e->text);
    case Expr::Kind::Bool: return e->ival ? "true" : "false";
    case Expr::Kind::Null: return "null";
    case Expr::Kind::Date: return format_date(static_cast<Days>(e->ival));
    case Expr::Kind::Name: return e->text;
    case Expr::Kind::List:
    case Expr::Kind::Call: {
      std::string s = e->kind == Expr::Kind::List ? std::string("[") : fmt::format("(call {}", e->text);
      for (size_t i = 0; i < e->args.size(); ++i) {
        if (i || e->kind == Expr::Kind::Call) s += ' ';
        s += dump_expr(e->args[i].get());
      }
      return s + (e->kind == Expr::Kind::List ? "]" : ")");
    }
    case Expr::Kind::Unary: return fmt::format("({} {})", op_text(e->uop), dump_expr(e->args.empty() ? nullptr : e->args[0].get()));
    case Expr::Kind::Binary:
      return fmt::format("({} {} {})", op_text(e->bop), dump_expr(e->args[0].get()), dump_expr(e->args[1].get()));
    case Expr::Kind::IsNull:
      return fmt::format("({} {})", e->negated ? "is-not-null" : "is-null", dump_expr(e->args[0].get()));
  }
  return "?";
}

std::string dump_ast(const Module& m) {
  Printer p;
  p.line(0, fmt::format("(module {}", m.file ? m.file->path() : std::string()));
  for (const auto& it : m.items) p.item(1, it);
  p.close();
  return p.out;
}

}  // namespace crm::lang
