// The canonical formatter: lays the AST out as lines, each tagged with the source range it
// came from, then places every comment next to its line and keeps chosen blank lines.
// Layout rules: docs/formatting.md. Used by `crm fmt` (engine/cli/cmd_fmt.cpp).
#include "lang/formatter.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "lang/date.hpp"

namespace crm::lang {

// ================================================================ expressions

namespace {

// Binding strength, loosest first (SPEC §4): or < and < not < comparisons < + - < * / % < unary -.
enum Prec : int { kOr = 1, kAnd, kNot, kCompare, kAdd, kMul, kNeg, kAtom };

bool is_negative_literal(const Expr& e) {
  if (e.kind == Expr::Kind::Int) return e.text.empty() ? e.ival < 0 : e.text[0] == '-';
  if (e.kind == Expr::Kind::Decimal) return e.text.empty() ? e.dval < 0 : e.text[0] == '-';
  return false;
}

int prec_of(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Binary:
      switch (e.bop) {
        case BinOp::Or: return kOr;
        case BinOp::And: return kAnd;
        case BinOp::Add:
        case BinOp::Sub: return kAdd;
        case BinOp::Mul:
        case BinOp::Div:
        case BinOp::Mod: return kMul;
        default: return kCompare;  // == != < <= > >= in, not in
      }
    case Expr::Kind::Unary: return e.uop == UnOp::Not ? kNot : kNeg;
    case Expr::Kind::IsNull: return kCompare;
    default: return is_negative_literal(e) ? kNeg : kAtom;
  }
}

std::string number_text(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a decimal literal
  return s;
}

class ExprPrinter {
 public:
  explicit ExprPrinter(std::string& out) : out_(out) {}

  // Prints `e`, in parentheses when it binds more loosely than `min_prec` demands.
  void put(const Expr* e, int min_prec) {
    if (!e) return;  // only a recovered (broken) tree has holes; fmt never prints one
    int p = prec_of(*e);
    bool paren = p < min_prec;
    if (paren) out_ += '(';
    put_bare(*e, p);
    if (paren) out_ += ')';
  }

 private:
  const Expr* arg(const Expr& e, size_t i) { return i < e.args.size() ? e.args[i].get() : nullptr; }

  void put_bare(const Expr& e, int p) {
    switch (e.kind) {
      case Expr::Kind::Int:
        if (e.text.empty()) out_ += std::to_string(e.ival);
        else out_ += (e.ival < 0 && e.text[0] != '-' ? "-" : "") + e.text;
        break;
      case Expr::Kind::Decimal:
        if (e.text.empty()) out_ += number_text(e.dval);
        else out_ += (e.dval < 0 && e.text[0] != '-' ? "-" : "") + e.text;
        break;
      case Expr::Kind::String: out_ += quote_string(e.text); break;
      case Expr::Kind::Bool: out_ += e.ival ? "true" : "false"; break;
      case Expr::Kind::Null: out_ += "null"; break;
      case Expr::Kind::Date: out_ += format_date(static_cast<Days>(e.ival)); break;
      case Expr::Kind::Name: out_ += e.text; break;
      case Expr::Kind::List:
        out_ += '[';
        put_list(e);
        out_ += ']';
        break;
      case Expr::Kind::Call:
        out_ += e.text;
        if (e.args.empty() && e.text == "today") break;  // `today` is written without parentheses
        out_ += '(';
        put_list(e);
        out_ += ')';
        break;
      case Expr::Kind::Unary:
        if (e.uop == UnOp::Not) {
          out_ += "not ";
          put(arg(e, 0), kNot);
        } else {
          out_ += '-';
          size_t at = out_.size();
          put(arg(e, 0), kNeg);
          if (out_.size() > at && out_[at] == '-') out_.insert(at, " ");  // `- -x`, never `--x`
        }
        break;
      case Expr::Kind::IsNull:
        put(arg(e, 0), kCompare + 1);
        out_ += e.negated ? " is not null" : " is null";
        break;
      case Expr::Kind::Binary: put_binary(e, p); break;
    }
  }

  void put_list(const Expr& e) {
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i) out_ += ", ";
      put(e.args[i].get(), kOr);
    }
  }

  // Left-associative chains (`a + b + c + ...`) are walked iteratively, so a long chain from a
  // generated file cannot exhaust the stack; comparisons do not chain and take both operands
  // one level tighter.
  void put_binary(const Expr& e, int p) {
    if (p == kCompare) {
      put(arg(e, 0), kCompare + 1);
      put_op(e);
      put(arg(e, 1), kCompare + 1);
      return;
    }
    std::vector<const Expr*> spine{&e};
    for (const Expr* left = arg(e, 0); left && left->kind == Expr::Kind::Binary && prec_of(*left) == p;
         left = arg(*left, 0))
      spine.push_back(left);
    put(arg(*spine.back(), 0), p);
    for (auto it = spine.rbegin(); it != spine.rend(); ++it) {
      put_op(**it);
      put(arg(**it, 1), p + 1);
    }
  }

  void put_op(const Expr& e) {
    out_ += ' ';
    out_ += op_text(e.bop);
    out_ += ' ';
  }

  std::string& out_;
};

}  // namespace

std::string format_expr(const Expr& e) {
  std::string out;
  ExprPrinter(out).put(&e, kOr);
  return out;
}

namespace {

// An `and` / `or` chain split at its top level: "a", "and b", "and c" (for line breaking).
struct ChainPart {
  const Expr* operand;
  std::string text;
};

std::vector<ChainPart> split_chain(const Expr& e) {
  std::vector<ChainPart> parts;
  int p = prec_of(e);
  if (e.kind != Expr::Kind::Binary || (p != kOr && p != kAnd)) return parts;
  std::vector<const Expr*> spine{&e};
  for (const Expr* left = e.args[0].get(); left && left->kind == Expr::Kind::Binary && prec_of(*left) == p;
       left = left->args[0].get())
    spine.push_back(left);
  auto print = [](const Expr* x, int min_prec, std::string prefix) {
    ExprPrinter(prefix).put(x, min_prec);
    return prefix;
  };
  const Expr* first = spine.back()->args[0].get();
  parts.push_back({first, print(first, p, "")});
  for (auto it = spine.rbegin(); it != spine.rend(); ++it) {
    const Expr* right = (*it)->args[1].get();
    parts.push_back({right, print(right, p + 1, std::string(op_text((*it)->bop)) + " ")});
  }
  return parts;
}

}  // namespace

std::string quote_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{{{:X}}}", c);
        else out += ch;
    }
  }
  out += '"';
  return out;
}

// ================================================================ layout

namespace {

constexpr uint32_t kNoPos = std::numeric_limits<uint32_t>::max();
constexpr const char* kIndent = "  ";        // one level of indentation
constexpr const char* kTrailingGap = "  ";   // between code and a trailing comment
// Lines holding a long condition are broken before `and` / `or` to stay within this many
// columns (a common editor and review width); a single long operand still makes a long line.
constexpr size_t kMaxWidth = 100;

// Whether a blank line may separate two consecutive output elements (comments or lines).
enum class Gap : uint8_t {
  Never,  // never (inside a rule, right after `{`)
  Keep,   // one blank line where the source had one or more
  Blank,  // always exactly one
};

struct Line {
  int indent = 0;
  int comment_indent = 0;  // for own-line comments placed before this line
  std::string text;
  uint32_t begin = kNoPos, end = 0;  // source range of what is printed on this line
  Gap before = Gap::Never;           // before the first element (a comment or the line itself)
  Gap inner = Gap::Keep;             // between the comments before the line, and the line
};

// Which one-line declarations stay grouped without a blank line (0: never grouped).
int group_of(const Item& item) {
  const auto& n = item.node;
  if (std::holds_alternative<Import>(n)) return 1;
  if (std::holds_alternative<Definition>(n)) return 2;  // let and segment
  if (std::holds_alternative<Message>(n)) return 3;
  if (std::holds_alternative<Option>(n) || std::holds_alternative<Limit>(n) || std::holds_alternative<Timezone>(n))
    return 4;  // policies: campaign default options, limits, timezones
  return 0;    // rules, journeys, campaigns: several lines
}

std::string option_text(const Option& o) {
  switch (o.kind) {
    case OptionKind::Once: return "once";
    case OptionKind::OncePer: return "once per " + (o.expr ? format_expr(*o.expr) : std::string());
    case OptionKind::Every: return fmt::format("every {} days", o.n);
    case OptionKind::Priority: return fmt::format("priority {}", o.n);
    case OptionKind::After: return o.n >= 0 ? fmt::format("after {} {} days", o.name, o.n) : "after " + o.name;
    case OptionKind::From: return "from " + format_date(o.date);
    case OptionKind::Until: return "until " + format_date(o.date);
    case OptionKind::Holdout: {
      std::string pct = o.text.empty() ? fmt::format("{}", o.pct) : o.text;
      if (pct.back() != '%') pct += '%';
      return "holdout " + pct;
    }
  }
  return "?";
}

std::string action_text(const Action& a) {
  switch (a.kind) {
    case ActionKind::Send:
      return "send " + a.name + (a.channel ? std::string(" via ") + channel_name(*a.channel) : "");
    case ActionKind::Coupon: return "grant coupon " + a.name;
    case ActionKind::Points: return "grant points " + (a.points ? format_expr(*a.points) : std::string());
    case ActionKind::Offer: return "offer " + a.name;
    case ActionKind::Tag: return "tag " + a.name;
    case ActionKind::Untag: return "untag " + a.name;
  }
  return "?";
}

}  // namespace

std::string test_fact_text(const TestFact& f) {
  auto date = [](std::optional<int32_t> d) { return d ? " " + format_date(*d) : std::string(); };
  switch (f.kind) {
    case TestFact::Kind::Column: return f.name + " " + (f.value ? format_expr(*f.value) : std::string());
    case TestFact::Kind::Order: {
      std::string s = "order" + date(f.date);
      if (f.total) s += " total " + format_expr(*f.total);
      if (!f.status.empty()) s += " status " + f.status;
      if (!f.items.empty()) {
        s += " items [";
        for (size_t i = 0; i < f.items.size(); ++i) s += (i ? ", " : "") + quote_string(f.items[i]);
        s += "]";
      }
      if (f.id) s += fmt::format(" id {}", *f.id);
      return s;
    }
    case TestFact::Kind::Subscription: {
      std::string s = "subscription" + date(f.date);
      if (!f.status.empty()) s += " status " + f.status;
      if (f.cycles) s += fmt::format(" cycles {}", *f.cycles);
      if (f.cancelled) s += " cancelled " + format_date(*f.cancelled);
      if (f.reason) s += " reason " + quote_string(*f.reason);
      if (f.product) s += " product " + quote_string(*f.product);
      return s;
    }
    case TestFact::Kind::Survey: return fmt::format("survey{} satisfaction {}", date(f.date), f.satisfaction);
    case TestFact::Kind::Referral: return fmt::format("referral {}{}", f.referee, date(f.date));
    case TestFact::Kind::Tag: return "tag " + f.name + date(f.date);
    case TestFact::Kind::Event: {
      std::string s = "event " + f.name + date(f.date);
      if (!f.fields.empty()) {
        s += " { ";
        for (size_t i = 0; i < f.fields.size(); ++i)
          s += (i ? ", " : "") + f.fields[i].first + " " + (f.fields[i].second ? format_expr(*f.fields[i].second) : "");
        s += " }";
      }
      return s;
    }
  }
  return "?";
}

std::string test_expect_text(const TestExpect& e, bool with_keyword) {
  std::string s = with_keyword ? "expect " : "";
  if (e.no_actions) {
    s += "no actions";
  } else {
    if (e.absent) s += "no ";
    s += std::string(action_name(e.action)) + " " + e.target;
  }
  if (e.to) s += fmt::format(" to {}", *e.to);
  if (e.via) s += std::string(" via ") + channel_name(*e.via);
  if (e.on) s += " on " + format_date(*e.on);
  if (!e.rule.empty()) s += " rule " + e.rule;
  if (!e.status.empty()) s += " " + e.status;
  if (e.times) s += fmt::format(" times {}", *e.times);
  if (e.subject) s += " subject " + quote_string(*e.subject);
  return s;
}

namespace {

// Builds the lines of a module, each with the source range of its AST nodes.
class LineBuilder {
 public:
  explicit LineBuilder(const SourceFile* file) : file_(file) {}

  std::vector<Line> lines;

  void items(const std::vector<Item>& list, int indent) {
    for (size_t i = 0; i < list.size(); ++i) {
      Gap before = Gap::Never;
      if (i > 0) {
        int g = group_of(list[i]);
        before = g != 0 && g == group_of(list[i - 1]) ? Gap::Keep : Gap::Blank;
      }
      std::visit([&](const auto& node) { item(node, indent, before); }, list[i].node);
    }
  }

 private:
  Line& open(int indent, Gap before, Gap inner, std::string text) {
    Line l;
    l.indent = l.comment_indent = indent;
    l.before = before;
    l.inner = inner;
    l.text = std::move(text);
    lines.push_back(std::move(l));
    return lines.back();
  }

  void anchor(Line& l, Span s) const {
    if (s.end <= s.begin) return;  // an unset span
    s.end = code_end(s);
    l.begin = std::min(l.begin, s.begin);
    l.end = std::max(l.end, s.end);
  }
  void anchor_point(Line& l, uint32_t at) const { anchor(l, Span{at, at + 1}); }
  void anchor(Line& l, const ExprPtr& e) const {
    if (e) anchor(l, e->span);
  }

  // The end of the last token inside `s`: a parser span may run on over the spaces and
  // comments that follow its last token, and those comments must not count as part of it.
  uint32_t code_end(Span s) const {
    if (!file_) return s.end;
    const std::string& t = file_->text();
    size_t end = std::min<size_t>(s.end, t.size()), last = s.begin + 1;
    for (size_t i = s.begin; i < end; ++i) {
      char c = t[i];
      if (c == '#') {
        while (i + 1 < end && t[i + 1] != '\n') ++i;
      } else if (c == '"') {
        for (++i; i < end && t[i] != '"' && t[i] != '\n'; ++i)
          if (t[i] == '\\') ++i;
        last = std::min(i + 1, end);
      } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        last = i + 1;
      }
    }
    return static_cast<uint32_t>(std::max<size_t>(last, s.begin + 1));
  }

  void anchor_actions(Line& l, const std::vector<Action>& actions) const {
    for (const auto& a : actions) {
      anchor(l, a.span);
      anchor(l, a.name_span);
      anchor(l, a.channel_span);
      anchor(l, a.points);
    }
  }

  static size_t width(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // code points
    return n;
  }
  static size_t columns(const Line& l) { return static_cast<size_t>(l.indent) * 2 + width(l.text); }

  // Appends `e` to the line at `at` (which holds the clause's prefix, e.g. "when "). When the
  // line would pass kMaxWidth and `e` is an and/or chain, the chain is broken before its
  // operators, filling each line greedily; continuation lines are indented `cont_indent`.
  void put_expr(size_t at, const ExprPtr& e, int cont_indent) {
    if (!e) return;
    std::string whole = format_expr(*e);
    Line probe = lines[at];
    probe.text += whole;
    std::vector<ChainPart> parts = columns(probe) > kMaxWidth ? split_chain(*e) : std::vector<ChainPart>{};
    if (parts.empty()) {
      lines[at].text += whole;
      anchor(lines[at], e->span);
      return;
    }
    size_t cur = at;
    for (size_t i = 0; i < parts.size(); ++i) {
      Line& l = lines[cur];
      bool fits = columns(l) + 1 + width(parts[i].text) <= kMaxWidth;
      if (i == 0 || fits) {
        if (i > 0) l.text += ' ';
        l.text += parts[i].text;
      } else {
        open(cont_indent, Gap::Never, Gap::Never, parts[i].text);
        cur = lines.size() - 1;
      }
      if (parts[i].operand) anchor(lines[cur], parts[i].operand->span);
    }
  }

  static std::string actions_text(const std::vector<Action>& actions) {
    std::string s;
    for (size_t i = 0; i < actions.size(); ++i) s += (i ? ", " : "") + action_text(actions[i]);
    return s;
  }

  void item(const Import& x, int indent, Gap before) {
    anchor(open(indent, before, Gap::Keep, "import " + quote_string(x.path)), x.span);
  }

  void item(const Definition& x, int indent, Gap before) {
    Line& l = open(indent, before, Gap::Keep, (x.segment ? "segment " : "let ") + x.name + " = ");
    anchor_point(l, x.span.begin);
    anchor(l, x.name_span);
    put_expr(lines.size() - 1, x.expr, indent + 1);
  }

  void item(const Message& x, int indent, Gap before) {
    std::string text = "message " + x.name;
    if (x.channel) text += std::string(" via ") + channel_name(*x.channel);
    if (x.subject) text += " subject " + quote_string(*x.subject);
    if (x.cost) text += " cost " + (x.cost_text.empty() ? fmt::format("{}", *x.cost) : x.cost_text);
    if (x.transactional) text += " transactional";
    anchor(open(indent, before, Gap::Keep, std::move(text)), x.span);
  }

  void item(const Option& x, int indent, Gap before) {
    Line& l = open(indent, before, Gap::Keep, option_text(x));
    anchor(l, x.span);
    anchor(l, x.expr);
  }

  void item(const Limit& x, int indent, Gap before) {
    std::string what = x.channel ? channel_name(*x.channel) : "message";
    anchor(open(indent, before, Gap::Keep, fmt::format("limit {} {} per {} days", x.count, what, x.days)), x.span);
  }

  void item(const Timezone& x, int indent, Gap before) {
    anchor(open(indent, before, Gap::Keep, "timezone " + quote_string(x.name)), x.span);
  }

  // rule NAME:            |  [on EVENT ]when EXPR
  //   [on EVENT]          |    then ACTIONS
  //   when EXPR           |    OPTION...
  //   then ACTIONS
  //   OPTION...
  void item(const Rule& x, int indent, Gap before) {
    if (x.name.empty()) {
      Line& head = open(indent, before, Gap::Keep, (x.event.empty() ? "" : "on " + x.event + " ") + "when ");
      anchor_point(head, x.span.begin);
      anchor(head, x.event_span);
      put_expr(lines.size() - 1, x.when, indent + 2);  // deeper than the `then` line below
    } else {
      Line& head = open(indent, before, Gap::Keep, "rule " + x.name + ":");
      anchor_point(head, x.span.begin);
      anchor(head, x.name_span);
      if (!x.event.empty()) anchor(clause(indent + 1, "on " + x.event), x.event_span);
      clause(indent + 1, "when ");
      put_expr(lines.size() - 1, x.when, indent + 2);
    }
    anchor_actions(clause(indent + 1, "then " + actions_text(x.actions)), x.actions);
    for (const auto& o : x.options) {
      Line& l = clause(indent + 1, option_text(o));
      anchor(l, o.span);
      anchor(l, o.expr);
    }
  }

  Line& clause(int indent, std::string text) { return open(indent, Gap::Never, Gap::Never, std::move(text)); }

  // journey NAME on EVENT [when EXPR] {
  //   day N: ACTIONS [unless EXPR]
  //   exit when EXPR
  //   OPTION...
  // }
  void item(const Journey& x, int indent, Gap before) {
    std::string text = "journey " + x.name + " on " + x.event;
    if (x.when) text += " when " + format_expr(*x.when);
    Line& head = open(indent, before, Gap::Keep, text + " {");
    anchor_point(head, x.span.begin);
    anchor(head, x.name_span);
    anchor(head, x.event_span);
    anchor(head, x.when);
    size_t first = lines.size();
    auto body_gap = [&] { return lines.size() == first ? Gap::Never : Gap::Keep; };
    for (const auto& s : x.steps) {
      std::string step = fmt::format("day {}: {}", s.day, actions_text(s.actions));
      if (s.unless) step += " unless " + format_expr(*s.unless);
      Line& l = open(indent + 1, body_gap(), Gap::Keep, std::move(step));
      anchor(l, s.span);
      anchor_actions(l, s.actions);
      anchor(l, s.unless);
    }
    if (x.exit_when) {
      open(indent + 1, body_gap(), Gap::Keep, "exit when ");
      put_expr(lines.size() - 1, x.exit_when, indent + 2);
    }
    for (const auto& o : x.options) {
      Line& l = open(indent + 1, body_gap(), Gap::Keep, option_text(o));
      anchor(l, o.span);
      anchor(l, o.expr);
    }
    close_brace(indent);
  }

  // campaign NAME [when EXPR] {
  //   ITEM...
  // }
  void item(const Campaign& x, int indent, Gap before) {
    std::string text = "campaign " + x.name;
    if (x.when) text += " when " + format_expr(*x.when);
    Line& head = open(indent, before, Gap::Keep, text + " {");
    anchor_point(head, x.span.begin);
    anchor(head, x.name_span);
    anchor(head, x.when);
    items(x.items, indent + 1);
    close_brace(indent);
  }

  // test "NAME" {
  //   customer ID {
  //     FACT...
  //   }
  //   on DATE | from DATE to DATE
  //   expect ...
  // }                       (the body in source order)
  void item(const Test& x, int indent, Gap before) {
    Line& head = open(indent, before, Gap::Keep, "test " + quote_string(x.name) + " {");
    anchor_point(head, x.span.begin);
    anchor(head, x.name_span);
    size_t first = lines.size();
    auto body_gap = [&] { return lines.size() == first ? Gap::Never : Gap::Keep; };
    struct Entry {
      uint32_t at;
      int kind;
      size_t i;
    };
    std::vector<Entry> body;
    for (size_t i = 0; i < x.customers.size(); ++i) body.push_back({x.customers[i].span.begin, 0, i});
    for (size_t i = 0; i < x.dates.size(); ++i) body.push_back({x.dates[i].span.begin, 1, i});
    for (size_t i = 0; i < x.expects.size(); ++i) body.push_back({x.expects[i].span.begin, 2, i});
    std::stable_sort(body.begin(), body.end(), [](const Entry& a, const Entry& b) { return a.at < b.at; });
    for (const Entry& en : body) {
      if (en.kind == 0) {
        const TestCustomer& c = x.customers[en.i];
        Line& l = open(indent + 1, body_gap(), Gap::Keep, fmt::format("customer {} {{", c.id));
        anchor_point(l, c.span.begin);
        anchor(l, c.id_span);
        size_t cfirst = lines.size();
        for (const TestFact& f : c.facts) {
          Line& fl = open(indent + 2, lines.size() == cfirst ? Gap::Never : Gap::Keep, Gap::Keep, test_fact_text(f));
          anchor(fl, f.span);
        }
        close_brace(indent + 1);
      } else if (en.kind == 1) {
        const TestDates& d = x.dates[en.i];
        std::string text = d.range ? "from " + format_date(d.from) + " to " + format_date(d.to) : "on " + format_date(d.from);
        anchor(open(indent + 1, body_gap(), Gap::Keep, std::move(text)), d.span);
      } else {
        const TestExpect& e = x.expects[en.i];
        anchor(open(indent + 1, body_gap(), Gap::Keep, test_expect_text(e, true)), e.span);
      }
    }
    close_brace(indent);
  }

  // The `}` line: anchored at the brace that follows the body in the source, so that comments
  // before it stay inside the braces and comments after it stay outside.
  void close_brace(int indent) {
    uint32_t from = lines.back().end == 0 ? lines.back().begin : lines.back().end;
    Line& l = open(indent, Gap::Never, Gap::Never, "}");
    l.comment_indent = indent + 1;
    uint32_t at = find_close_brace(from);
    if (at != kNoPos) anchor_point(l, at);
  }

  // Skips whitespace, comments and the opening brace from `from`; the offset of the next
  // character when it is '}', else kNoPos.
  uint32_t find_close_brace(uint32_t from) const {
    if (!file_ || from == kNoPos) return kNoPos;
    const std::string& t = file_->text();
    for (size_t i = from; i < t.size(); ++i) {
      char c = t[i];
      if (c == '}') return static_cast<uint32_t>(i);
      if (c == '#') {
        while (i < t.size() && t[i] != '\n') ++i;
      } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '{') {
        return kNoPos;
      }
    }
    return kNoPos;
  }

  const SourceFile* file_;
};

// ================================================================ comments and blank lines

struct Placed {
  std::vector<const Comment*> leading;  // own-line comments printed before the line
  const Comment* trailing = nullptr;    // printed at the end of the line
};

// True when the source comment has code before it on its line.
bool is_trailing(const SourceFile& file, const Comment& c) {
  const std::string& t = file.text();
  for (size_t i = std::min<size_t>(c.span.begin, t.size()); i > 0; --i) {
    char ch = t[i - 1];
    if (ch == '\n') return false;
    if (ch != ' ' && ch != '\t' && ch != '\r') return true;
  }
  return false;
}

// Assigns each comment, in source order, a slot: before line i (own-line comments: the first
// line that ends after the comment) or at the end of line i (trailing comments: the last line
// that starts before it). Slots never move backwards, so comments keep their order; a second
// trailing comment for one line becomes an own-line comment before the next line.
std::vector<Placed> place_comments(const Module& m, std::vector<Line>& lines) {
  std::vector<Placed> slots(lines.size() + 1);  // the last slot is the end of the file
  // A line without source position (only a recovered tree) inherits its predecessor's.
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].begin == kNoPos) lines[i].begin = lines[i].end = i ? lines[i - 1].end : 0;
  size_t line = 0;
  bool at_trailing = false;  // the cursor is at the end of `line` rather than before it
  for (const Comment& c : m.comments) {
    uint32_t p = c.span.begin;
    size_t want = line;
    bool trailing = m.file && is_trailing(*m.file, c);
    if (trailing) {
      while (want + 1 < lines.size() && lines[want + 1].begin < p) ++want;
      if (want >= lines.size() || lines[want].begin >= p) trailing = false;
    }
    if (!trailing) {
      while (want < lines.size() && lines[want].end <= p) ++want;
    }
    if (want < line || (want == line && at_trailing && !trailing)) {
      want = line;
      trailing = at_trailing;
    }
    if (trailing && slots[want].trailing) {  // the line already has its trailing comment
      ++want;
      trailing = false;
    }
    if (trailing) slots[want].trailing = &c;
    else slots[want].leading.push_back(&c);
    line = want;
    at_trailing = trailing;
  }
  return slots;
}

// Whether the source has a blank line between offsets `a` and `b`.
bool blank_between(const SourceFile* file, uint32_t a, uint32_t b) {
  if (!file || a >= b) return false;
  const std::string& t = file->text();
  bool after_newline = false;
  for (size_t i = a; i < std::min<size_t>(b, t.size()); ++i) {
    char c = t[i];
    if (c == '\n') {
      if (after_newline) return true;
      after_newline = true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      after_newline = false;
    }
  }
  return false;
}

std::string comment_text(const Comment& c) {
  std::string s = c.text;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string indent_text(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += kIndent;
  return s;
}

}  // namespace

std::string format_module(const Module& m) {
  const SourceFile* file = m.file.get();
  LineBuilder builder(file);
  builder.items(m.items, 0);
  std::vector<Line>& lines = builder.lines;
  std::vector<Placed> slots = place_comments(m, lines);

  std::string out;
  uint32_t prev_end = 0;  // source end of the last printed element
  auto separate = [&](Gap gap, uint32_t next_begin) {
    if (out.empty()) return;
    if (gap == Gap::Blank || (gap == Gap::Keep && blank_between(file, prev_end, next_begin))) out += '\n';
  };
  for (size_t i = 0; i <= lines.size(); ++i) {
    const bool eof = i == lines.size();
    Line end_of_file;
    end_of_file.before = Gap::Keep;
    const Line& l = eof ? end_of_file : lines[i];
    bool first = true;
    for (const Comment* c : slots[i].leading) {
      separate(first ? l.before : l.inner, c->span.begin);
      out += indent_text(l.comment_indent) + comment_text(*c) + '\n';
      prev_end = c->span.end;
      first = false;
    }
    if (eof) break;
    separate(first ? l.before : l.inner, l.begin);
    out += indent_text(l.indent) + l.text;
    prev_end = std::max(prev_end, l.end);
    if (const Comment* c = slots[i].trailing) {
      out += kTrailingGap + comment_text(*c);
      prev_end = std::max(prev_end, c->span.end);
    }
    out += '\n';
  }
  return out;
}

}  // namespace crm::lang
