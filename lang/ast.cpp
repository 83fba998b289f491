// AST helpers: operator and keyword spellings, deep copy, and structural equality.
#include "lang/ast.hpp"

#include <cmath>

namespace crm::lang {

const char* op_text(BinOp op) {
  switch (op) {
    case BinOp::Or: return "or";
    case BinOp::And: return "and";
    case BinOp::Eq: return "==";
    case BinOp::Ne: return "!=";
    case BinOp::Lt: return "<";
    case BinOp::Le: return "<=";
    case BinOp::Gt: return ">";
    case BinOp::Ge: return ">=";
    case BinOp::In: return "in";
    case BinOp::NotIn: return "not in";
    case BinOp::Add: return "+";
    case BinOp::Sub: return "-";
    case BinOp::Mul: return "*";
    case BinOp::Div: return "/";
    case BinOp::Mod: return "%";
  }
  return "?";
}

const char* op_text(UnOp op) { return op == UnOp::Not ? "not" : "-"; }

const char* channel_name(Channel c) {
  switch (c) {
    case Channel::Email: return "email";
    case Channel::Line: return "line";
    case Channel::Sms: return "sms";
    case Channel::Push: return "push";
    case Channel::Dm: return "dm";
  }
  return "?";
}

std::optional<Channel> channel_from_name(std::string_view s) {
  if (s == "email") return Channel::Email;
  if (s == "line") return Channel::Line;
  if (s == "sms") return Channel::Sms;
  if (s == "push") return Channel::Push;
  if (s == "dm") return Channel::Dm;
  return std::nullopt;
}

const char* action_name(ActionKind k) {
  switch (k) {
    case ActionKind::Send: return "send";
    case ActionKind::Coupon: return "coupon";
    case ActionKind::Points: return "points";
    case ActionKind::Offer: return "offer";
    case ActionKind::Tag: return "tag";
    case ActionKind::Untag: return "untag";
  }
  return "?";
}

const char* option_name(OptionKind k) {
  switch (k) {
    case OptionKind::Once: return "once";
    case OptionKind::OncePer: return "once per";
    case OptionKind::Every: return "every";
    case OptionKind::Priority: return "priority";
    case OptionKind::After: return "after";
    case OptionKind::From: return "from";
    case OptionKind::Until: return "until";
    case OptionKind::Holdout: return "holdout";
  }
  return "?";
}

ExprPtr Expr::clone() const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->span = span;
  e->ival = ival;
  e->dval = dval;
  e->text = text;
  e->uop = uop;
  e->bop = bop;
  e->negated = negated;
  e->parenthesized = parenthesized;
  e->type = type;
  for (const auto& a : args) e->args.push_back(a ? a->clone() : nullptr);
  return e;
}

bool same_expr(const Expr* a, const Expr* b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind || a->args.size() != b->args.size()) return false;
  switch (a->kind) {
    case Expr::Kind::Int:
    case Expr::Kind::Bool:
    case Expr::Kind::Date:
      if (a->ival != b->ival) return false;
      break;
    case Expr::Kind::Decimal:
      if (a->dval != b->dval) return false;
      break;
    case Expr::Kind::String:
    case Expr::Kind::Name:
    case Expr::Kind::Call:
      if (a->text != b->text) return false;
      break;
    case Expr::Kind::Unary:
      if (a->uop != b->uop) return false;
      break;
    case Expr::Kind::Binary:
      if (a->bop != b->bop) return false;
      break;
    case Expr::Kind::IsNull:
      if (a->negated != b->negated) return false;
      break;
    case Expr::Kind::Null:
    case Expr::Kind::List:
      break;
  }
  for (size_t i = 0; i < a->args.size(); ++i)
    if (!same_expr(a->args[i].get(), b->args[i].get())) return false;
  return true;
}

namespace {

bool same_action(const Action& a, const Action& b) {
  return a.kind == b.kind && a.name == b.name && a.channel == b.channel && same_expr(a.points.get(), b.points.get());
}

template <class T, class F>
bool same_list(const std::vector<T>& a, const std::vector<T>& b, F eq) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!eq(a[i], b[i])) return false;
  return true;
}

bool same_option(const Option& a, const Option& b) {
  return a.kind == b.kind && same_expr(a.expr.get(), b.expr.get()) && a.n == b.n && a.pct == b.pct && a.name == b.name &&
         a.date == b.date;
}

bool same_item(const Item& a, const Item& b);

struct SameVisitor {
  const Item& other;
  bool operator()(const Import& x) const {
    auto* y = std::get_if<Import>(&other.node);
    return y && x.path == y->path;
  }
  bool operator()(const Definition& x) const {
    auto* y = std::get_if<Definition>(&other.node);
    return y && x.segment == y->segment && x.name == y->name && same_expr(x.expr.get(), y->expr.get());
  }
  bool operator()(const Message& x) const {
    auto* y = std::get_if<Message>(&other.node);
    return y && x.name == y->name && x.channel == y->channel && x.subject == y->subject && x.cost == y->cost &&
           x.transactional == y->transactional;
  }
  bool operator()(const Rule& x) const {
    auto* y = std::get_if<Rule>(&other.node);
    return y && x.name == y->name && x.event == y->event && same_expr(x.when.get(), y->when.get()) &&
           same_list(x.actions, y->actions, same_action) && same_list(x.options, y->options, same_option);
  }
  bool operator()(const Journey& x) const {
    auto* y = std::get_if<Journey>(&other.node);
    return y && x.name == y->name && x.event == y->event && same_expr(x.when.get(), y->when.get()) &&
           same_expr(x.exit_when.get(), y->exit_when.get()) && same_list(x.options, y->options, same_option) &&
           same_list(x.steps, y->steps, [](const JourneyStep& s, const JourneyStep& t) {
             return s.day == t.day && same_list(s.actions, t.actions, same_action) &&
                    same_expr(s.unless.get(), t.unless.get());
           });
  }
  bool operator()(const Campaign& x) const {
    auto* y = std::get_if<Campaign>(&other.node);
    return y && x.name == y->name && same_expr(x.when.get(), y->when.get()) && same_list(x.items, y->items, same_item);
  }
  bool operator()(const Option& x) const {
    auto* y = std::get_if<Option>(&other.node);
    return y && same_option(x, *y);
  }
  bool operator()(const Limit& x) const {
    auto* y = std::get_if<Limit>(&other.node);
    return y && x.count == y->count && x.channel == y->channel && x.days == y->days;
  }
  bool operator()(const Timezone& x) const {
    auto* y = std::get_if<Timezone>(&other.node);
    return y && x.name == y->name;
  }
  bool operator()(const Test& x) const {
    auto* y = std::get_if<Test>(&other.node);
    return y && x.name == y->name &&
           same_list(x.customers, y->customers, [](const TestCustomer& a, const TestCustomer& b) {
             return a.id == b.id && same_list(a.facts, b.facts, same_fact);
           }) &&
           same_list(x.dates, y->dates, [](const TestDates& a, const TestDates& b) {
             return a.range == b.range && a.from == b.from && a.to == b.to;
           }) &&
           same_list(x.expects, y->expects, [](const TestExpect& a, const TestExpect& b) {
             return a.absent == b.absent && a.no_actions == b.no_actions && a.action == b.action &&
                    a.target == b.target && a.points == b.points && a.to == b.to && a.via == b.via && a.on == b.on &&
                    a.rule == b.rule && a.status == b.status && a.times == b.times && a.subject == b.subject;
           });
  }
  static bool same_fact(const TestFact& a, const TestFact& b) {
    return a.kind == b.kind && a.name == b.name && same_expr(a.value.get(), b.value.get()) && a.date == b.date &&
           same_expr(a.total.get(), b.total.get()) && a.status == b.status && a.items == b.items && a.id == b.id &&
           a.cycles == b.cycles && a.cancelled == b.cancelled && a.reason == b.reason && a.product == b.product &&
           a.satisfaction == b.satisfaction && a.referee == b.referee &&
           same_list(a.fields, b.fields, [](const auto& f, const auto& g) {
             return f.first == g.first && same_expr(f.second.get(), g.second.get());
           });
  }
};

bool same_item(const Item& a, const Item& b) { return std::visit(SameVisitor{b}, a.node); }

}  // namespace

bool same_module(const Module& a, const Module& b) { return same_list(a.items, b.items, same_item); }

}  // namespace crm::lang
