// Expression typing (SPEC §4): names, operators and builtin functions. Sets Expr::type on every
// node; type errors are Diagnostics (code E-type) at the offending operand, never exceptions.
#include <fmt/format.h>

#include "lang/check_context.hpp"
#include "lang/diagnostic_codes.hpp"

namespace crm::lang::detail {

using stdlib::FuncId;

Where where_for_event(const std::string& event) {
  if (event.empty()) return Where::Customer;
  if (event == "purchase" || event == "first_purchase") return Where::Order;
  return Where::Event;
}

namespace {

bool loose(Type t) { return t.kind == TypeKind::Error || t.kind == TypeKind::Any; }
bool boolish(Type t) { return loose(t) || t.kind == TypeKind::Bool || t.kind == TypeKind::Null; }
bool numeric_or_loose(Type t) { return loose(t) || t.is_numeric() || t.kind == TypeKind::Null; }

// Two scalar kinds that compare and unify: equal, int~decimal, or either loose.
bool kinds_compatible(TypeKind a, TypeKind b) {
  auto num = [](TypeKind k) { return k == TypeKind::Int || k == TypeKind::Decimal; };
  if (a == TypeKind::Error || b == TypeKind::Error || a == TypeKind::Any || b == TypeKind::Any) return true;
  if (a == TypeKind::Null || b == TypeKind::Null) return true;
  return a == b || (num(a) && num(b));
}

// The common type of two compatible scalar types (numeric widening, null and any absorbed).
Type unify(Type a, Type b) {
  if (a.kind == TypeKind::Error || b.kind == TypeKind::Error) return Type::error();
  if (a.kind == TypeKind::Null || a.kind == TypeKind::Any) return b.kind == TypeKind::Null ? a : b;
  if (b.kind == TypeKind::Null || b.kind == TypeKind::Any) return a;
  if (a.is_numeric() && b.is_numeric()) return a == b ? a : Type::decimal();
  return a;
}

std::string plural(size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

bool is_tags(const Expr& e) { return e.kind == Expr::Kind::Name && e.text == "tags"; }

}  // namespace

Typer::Typer(const CheckOptions& options, Diagnostics& diags, std::map<std::string, DefEntry>& defs)
    : options_(options), diags_(diags), defs_(defs) {}

Type Typer::type(Expr& e, const SourcePtr& file, Where where, ExprUse* use) {
  Ctx c{file, where, use};
  return visit(e, c);
}

void Typer::condition(Expr& e, const SourcePtr& file, Where where, ExprUse* use, const char* what) {
  Type t = type(e, file, where, use);
  if (!boolish(t))
    diags_.error(file, e.span, code::type, fmt::format("{} must be bool, got {}", what, type_name(t)),
                 t.is_numeric() ? "compare it with something, e.g. '... > 0'" : "");
}

void Typer::type_error(Ctx& c, Span span, std::string message, std::string hint) {
  diags_.error(c.file, span, code::type, std::move(message), std::move(hint));
}

Type Typer::visit(Expr& e, Ctx& c) {
  if (c.depth >= kMaxExprDepth) {
    if (!c.too_deep)
      diags_.error(c.file, e.span, code::too_deep,
                   fmt::format("expression nested more than {} levels deep", kMaxExprDepth),
                   "split it with 'let' definitions");
    c.too_deep = true;
    e.type = Type::error();
    return e.type;
  }
  ++c.depth;
  e.type = visit_inner(e, c);
  --c.depth;
  return e.type;
}

Type Typer::visit_inner(Expr& e, Ctx& c) {
  using K = Expr::Kind;
  switch (e.kind) {
    case K::Int: return Type::integer();
    case K::Decimal: return Type::decimal();
    case K::String: return Type::string();
    case K::Bool: return Type::boolean();
    case K::Null: return Type::null();
    case K::Date: return Type::date();
    case K::List: return list(e, c);
    case K::Name: return name(e, c);
    case K::Call: return call(e, c);
    case K::Unary: return unary(e, c);
    case K::Binary: return binary(e, c);
    case K::IsNull:
      for (auto& a : e.args)
        if (a) visit(*a, c);
      return Type::boolean();
  }
  return Type::error();
}

Type Typer::list(Expr& e, Ctx& c) {
  TypeKind elem = TypeKind::Error;
  bool seen = false, bad = false;
  for (auto& a : e.args) {
    if (!a) continue;
    Type t = visit(*a, c);
    if (t.kind == TypeKind::List) {
      type_error(c, a->span, "a list cannot contain lists");
      bad = true;
      continue;
    }
    if (t.kind == TypeKind::Null || t.kind == TypeKind::Error || t.kind == TypeKind::Any) continue;
    if (!seen) {
      elem = t.kind;
      seen = true;
    } else if (!kinds_compatible(elem, t.kind)) {
      if (!bad)
        type_error(c, a->span,
                   fmt::format("list elements must all have one type: expected {}, got {}", kind_name(elem),
                               kind_name(t.kind)));
      bad = true;
    } else if (elem != t.kind) {
      elem = TypeKind::Decimal;  // int and decimal widen to decimal
    }
  }
  return Type::list(bad ? TypeKind::Error : elem);
}

std::optional<Type> Typer::lookup(const std::string& n, ExprUse* use) {
  auto it = defs_.find(n);
  if (it != defs_.end()) {
    it->second.used = true;
    if (use) {
      use->defs.insert(n);
      use->tags.insert(it->second.tags.begin(), it->second.tags.end());
    }
    if (!it->second.typed) return Type::error();
    return it->second.def->segment ? Type::boolean() : it->second.type;
  }
  if (auto* a = stdlib::find_attribute(n)) return a->type;
  if (n.size() > 6 && n.compare(0, 6, "event.") == 0) return Type::any();
  for (const auto& x : options_.extra_attributes)
    if (x.name == n) return x.type;
  return std::nullopt;
}

std::vector<std::string> Typer::candidates(Where where) const {
  std::vector<std::string> out;
  for (const auto& a : stdlib::attributes()) {
    if (a.scope == stdlib::Scope::Order && where != Where::Order) continue;
    if (a.scope == stdlib::Scope::Event && where != Where::Event) continue;
    out.emplace_back(a.name);
  }
  for (const auto& [n, d] : defs_) out.push_back(n);
  for (const auto& x : options_.extra_attributes) out.push_back(x.name);
  return out;
}

Type Typer::name(Expr& e, Ctx& c) {
  const std::string& n = e.text;
  if (defs_.count(n)) return *lookup(n, c.use);
  if (auto* a = stdlib::find_attribute(n)) {
    if (a->scope == stdlib::Scope::Order && c.where != Where::Order) {
      diags_.error(c.file, e.span, code::scope,
                   fmt::format("'{}' is only available in rules and journeys 'on purchase' or 'on first_purchase'", n),
                   "add 'on purchase' to the rule");
      return Type::error();
    }
    if (a->scope == stdlib::Scope::Event && c.where != Where::Event) {
      diags_.error(c.file, e.span, code::scope,
                   fmt::format("'{}' is only available in event rules ('on EVENT', other than purchase and "
                               "first_purchase)",
                               n),
                   c.where == Where::Order ? "in purchase rules, use order.id, order.total and order.skus" : "");
      return Type::error();
    }
    if ((a->id == stdlib::AttrId::PAlive || a->id == stdlib::AttrId::ExpectedOrderValue) && options_.has_store &&
        !options_.store_has_models)
      diags_.warning(c.file, e.span, code::no_model,
                     fmt::format("'{}' is null for every customer: the store has no fitted lifetime model", n),
                     "run `crm fit --db STORE` first");
    return a->type;
  }
  if (n.size() > 6 && n.compare(0, 6, "event.") == 0) {
    if (c.where != Where::Event) {
      diags_.error(c.file, e.span, code::scope,
                   fmt::format("'{}' is only available in event rules ('on EVENT', other than purchase and "
                               "first_purchase)",
                               n),
                   c.where == Where::Order ? "in purchase rules, use order.id, order.total and order.skus" : "");
      return Type::error();
    }
    return Type::any();
  }
  if (auto t = lookup(n, c.use)) return *t;
  if (unparsed_.count(n)) return Type::error();  // its declaration's syntax error says it all
  std::string best = closest_match(n, candidates(c.where));
  std::string hint;
  if (!best.empty()) hint = fmt::format("did you mean '{}'?", best);
  else if (!options_.has_store && options_.extra_attributes.empty())
    hint = fmt::format("if '{}' is a column of your customers table, check with --db STORE", n);
  diags_.error(c.file, e.span, code::unknown_name, fmt::format("unknown attribute '{}'", n), hint);
  return Type::error();
}

Type Typer::call(Expr& e, Ctx& c) {
  std::vector<Type> at;
  for (auto& a : e.args) {
    if (!a) return Type::error();  // a parse error already reported
    at.push_back(visit(*a, c));
  }
  const stdlib::FuncInfo* f = stdlib::find_function(e.text);
  if (!f) {
    std::vector<std::string> names;
    for (const auto& g : stdlib::functions()) names.emplace_back(g.name);
    std::string best = closest_match(e.text, names);
    diags_.error(c.file, e.span, code::unknown_function, fmt::format("unknown function '{}'", e.text),
                 best.empty() ? fmt::format("the functions are: {}", fmt::join(names, ", "))
                              : fmt::format("did you mean '{}'?", best));
    return Type::error();
  }
  auto arity = [&](size_t lo, size_t hi) {
    if (at.size() >= lo && at.size() <= hi) return true;
    diags_.error(c.file, e.span, code::arity,
                 fmt::format("'{}' takes {}, got {}", e.text,
                             lo == hi ? plural(lo, "argument") : fmt::format("at least {} arguments", lo),
                             plural(at.size(), "argument")),
                 fmt::format("{}{}", e.text, f->signature));
    return false;
  };
  // Checks argument i against `ok`; `want` names the expected type in the message.
  auto arg = [&](size_t i, bool ok, const char* want) {
    if (ok) return true;
    type_error(c, e.args[i]->span,
               fmt::format("'{}' needs {} argument, got {}", e.text, want, type_name(at[i])),
               fmt::format("{}{}", e.text, f->signature));
    return false;
  };
  auto is = [&](size_t i, TypeKind k) { return loose(at[i]) || at[i].kind == TypeKind::Null || at[i].kind == k; };
  constexpr size_t kMany = SIZE_MAX;
  switch (f->id) {
    case FuncId::Today:
      arity(0, 0);
      return Type::date();
    case FuncId::Year:
    case FuncId::Month:
    case FuncId::Day:
      if (arity(1, 1)) arg(0, is(0, TypeKind::Date), "a date");
      return Type::integer();
    case FuncId::DaysBetween:
      if (arity(2, 2))
        for (size_t i = 0; i < 2; ++i) arg(i, is(i, TypeKind::Date), "a date");
      return Type::integer();
    case FuncId::Coalesce: {
      if (!arity(2, kMany)) return Type::error();
      Type r = Type::null();
      for (size_t i = 0; i < at.size(); ++i) {
        bool ok = at[i].kind == TypeKind::List && r.kind == TypeKind::List
                      ? kinds_compatible(at[i].elem, r.elem)
                      : (at[i].kind == TypeKind::List) == (r.kind == TypeKind::List) || loose(at[i]) ||
                            loose(r) || at[i].kind == TypeKind::Null || r.kind == TypeKind::Null;
        ok = ok && (at[i].kind == TypeKind::List || r.kind == TypeKind::List || kinds_compatible(at[i].kind, r.kind));
        if (!ok) {
          type_error(c, e.args[i]->span,
                     fmt::format("'coalesce' needs arguments of one type: expected {}, got {}", type_name(r),
                                 type_name(at[i])));
          return Type::error();
        }
        r = at[i].kind == TypeKind::List ? (r.kind == TypeKind::List && r.elem != at[i].elem ? r : at[i])
                                         : unify(r, at[i]);
      }
      return r;
    }
    case FuncId::Min:
    case FuncId::Max: {
      if (!arity(2, kMany)) return Type::error();
      Type r = Type::null();
      for (size_t i = 0; i < at.size(); ++i) {
        bool ok = numeric_or_loose(at[i]) || at[i].kind == TypeKind::Date;
        if (!arg(i, ok, "an int, decimal or date")) return Type::error();
        if (!kinds_compatible(r.kind, at[i].kind)) {
          type_error(c, e.args[i]->span,
                     fmt::format("'{}' needs arguments of one type: expected {}, got {}", e.text, type_name(r),
                                 type_name(at[i])));
          return Type::error();
        }
        r = unify(r, at[i]);
      }
      return r;
    }
    case FuncId::Abs:
      if (!arity(1, 1) || !arg(0, numeric_or_loose(at[0]), "an int or decimal")) return Type::error();
      return at[0].kind == TypeKind::Null ? Type::null() : at[0];
    case FuncId::Len:
      if (arity(1, 1))
        arg(0, loose(at[0]) || at[0].kind == TypeKind::Null || at[0].kind == TypeKind::List || at[0].kind == TypeKind::String,
            "a list or string");
      return Type::integer();
    case FuncId::HasTag:
      if (arity(1, 1) && arg(0, is(0, TypeKind::String), "a string") && e.args[0]->kind == Expr::Kind::String &&
          c.use)
        c.use->tags.insert(e.args[0]->text);
      return Type::boolean();
    case FuncId::PurchasesIn:
    case FuncId::SpentIn: {
      Type r = f->id == FuncId::PurchasesIn ? Type::integer() : Type::decimal();
      if (!arity(1, 1)) return r;
      const Expr& x = *e.args[0];
      std::optional<int64_t> days;
      if (x.kind == Expr::Kind::Int) days = x.ival;
      if (!days || *days < 1 || *days > stdlib::kMaxWindowDays)
        diags_.error(c.file, x.span, code::window,
                     fmt::format("'{}' needs a whole number of days from 1 to {} written in the call, got {}", e.text,
                                 stdlib::kMaxWindowDays, days ? std::to_string(*days) : std::string("an expression")),
                     fmt::format("e.g. {}(30): the 30 days up to and including today", e.text));
      return r;
    }
    case FuncId::BoughtCategory:
      if (arity(1, 1)) arg(0, is(0, TypeKind::String), "a string");
      return Type::boolean();
    case FuncId::Lower:
    case FuncId::Upper:
      if (arity(1, 1)) arg(0, is(0, TypeKind::String), "a string");
      return Type::string();
    case FuncId::ExpectedPurchases:
    case FuncId::PredictedClv:
    case FuncId::Recommended: {
      // The arguments name a frame column ("expected_purchases(30)"): literals only.
      const bool clv = f->id == FuncId::PredictedClv;
      if (!arity(1, clv ? 2 : 1)) return Type::error();
      const Expr& n = *e.args[0];
      if (n.kind != Expr::Kind::Int || n.ival < 1 || n.ival > 36500)
        type_error(c, n.span, fmt::format("'{}' needs a positive int literal, got {}", e.text, type_name(at[0])),
                   fmt::format("{}{}", e.text, f->signature));
      if (clv && at.size() == 2) {
        const Expr& rate = *e.args[1];
        if ((rate.kind != Expr::Kind::Decimal && rate.kind != Expr::Kind::Int) || (rate.kind == Expr::Kind::Decimal ? rate.dval : rate.ival) < 0)
          type_error(c, rate.span, fmt::format("'predicted_clv' needs a yearly discount rate literal >= 0 (0.1 = 10%), got {}", type_name(at[1])),
                     fmt::format("{}{}", e.text, f->signature));
      }
      if (options_.has_store && !options_.store_has_models && f->id != FuncId::Recommended)
        diags_.warning(c.file, e.span, code::no_model,
                       fmt::format("'{}' is null for every customer: the store has no fitted lifetime model", e.text),
                       "run `crm fit --db STORE` first");
      return f->id == FuncId::Recommended ? Type::list(TypeKind::String) : Type::decimal();
    }
    case FuncId::Count_: break;
  }
  return Type::error();
}

Type Typer::unary(Expr& e, Ctx& c) {
  if (e.args.empty() || !e.args[0]) return Type::error();
  Type t = visit(*e.args[0], c);
  if (e.uop == UnOp::Not) {
    if (!boolish(t)) type_error(c, e.args[0]->span, fmt::format("'not' needs a bool operand, got {}", type_name(t)));
    return Type::boolean();
  }
  if (!numeric_or_loose(t)) {
    type_error(c, e.args[0]->span, fmt::format("unary '-' needs a number, got {}", type_name(t)));
    return Type::error();
  }
  return t.kind == TypeKind::Null ? Type::null() : t;
}

Type Typer::binary(Expr& e, Ctx& c) {
  if (e.args.size() < 2 || !e.args[0] || !e.args[1]) return Type::error();
  Type a = visit(*e.args[0], c);
  Type b = visit(*e.args[1], c);
  switch (e.bop) {
    case BinOp::And:
    case BinOp::Or:
      for (int i = 0; i < 2; ++i) {
        Type t = i ? b : a;
        if (!boolish(t))
          type_error(c, e.args[i]->span, fmt::format("'{}' needs bool operands, got {}", op_text(e.bop), type_name(t)));
      }
      return Type::boolean();
    case BinOp::Eq:
    case BinOp::Ne:
    case BinOp::Lt:
    case BinOp::Le:
    case BinOp::Gt:
    case BinOp::Ge: return compare(e, c, a, b);
    case BinOp::In:
    case BinOp::NotIn: return membership(e, c, a, b);
    default: return arithmetic(e, c, a, b);
  }
}

Type Typer::compare(Expr& e, Ctx& c, Type a, Type b) {
  const char* op = op_text(e.bop);
  bool ordering = e.bop != BinOp::Eq && e.bop != BinOp::Ne;
  if (e.args[0]->kind == Expr::Kind::Null || e.args[1]->kind == Expr::Kind::Null) {
    diags_.warning(c.file, e.span, code::null_comparison, "comparison with null is always unknown; use 'is null'",
                   e.bop == BinOp::Ne ? "write 'x is not null'" : "write 'x is null'");
    return Type::boolean();
  }
  for (int i = 0; i < 2; ++i) {
    Type t = i ? b : a;
    if (t.kind == TypeKind::List) {
      type_error(c, e.args[i]->span, fmt::format("'{}' cannot compare lists, got {}", op, type_name(t)),
                 "use 'in', 'not in' or len()");
      return Type::boolean();
    }
    if (ordering && t.kind == TypeKind::Bool) {
      type_error(c, e.args[i]->span, fmt::format("'{}' cannot order bool values", op), "use '==' or '!='");
      return Type::boolean();
    }
  }
  if (!kinds_compatible(a.kind, b.kind))
    type_error(c, e.args[1]->span, fmt::format("'{}' cannot compare {} with {}", op, type_name(a), type_name(b)),
               a.kind == TypeKind::String || b.kind == TypeKind::String ? "write numbers without quotes, or quote both sides"
                                                                        : "");
  return Type::boolean();
}

Type Typer::membership(Expr& e, Ctx& c, Type a, Type b) {
  const char* op = op_text(e.bop);
  if (e.args[0]->kind == Expr::Kind::Null) {
    diags_.warning(c.file, e.span, code::null_comparison, "comparison with null is always unknown; use 'is null'");
    return Type::boolean();
  }
  if (a.kind == TypeKind::List) {
    type_error(c, e.args[0]->span, fmt::format("'{}' needs a single value on the left, got {}", op, type_name(a)));
    return Type::boolean();
  }
  if (b.kind != TypeKind::List && !loose(b) && b.kind != TypeKind::Null) {
    type_error(c, e.args[1]->span, fmt::format("'{}' needs a list on the right, got {}", op, type_name(b)),
               b.kind == TypeKind::String ? "write a list: [\"a\", \"b\"]" : "");
    return Type::boolean();
  }
  if (b.kind == TypeKind::List && !kinds_compatible(a.kind, b.elem)) {
    type_error(c, e.args[0]->span, fmt::format("'{}' cannot look for {} in {}", op, type_name(a), type_name(b)));
    return Type::boolean();
  }
  if (is_tags(*e.args[1]) && e.args[0]->kind == Expr::Kind::String && c.use) c.use->tags.insert(e.args[0]->text);
  return Type::boolean();
}

Type Typer::arithmetic(Expr& e, Ctx& c, Type a, Type b) {
  const char* op = op_text(e.bop);
  auto dateish = [](Type t) { return t.kind == TypeKind::Date; };
  bool additive = e.bop == BinOp::Add || e.bop == BinOp::Sub;
  auto operand_ok = [&](Type t) { return numeric_or_loose(t) || (additive && dateish(t)); };
  if (!operand_ok(a) || !operand_ok(b)) {
    int bad = operand_ok(a) ? 1 : 0;
    Type t = bad ? b : a;
    std::string want = additive ? "numbers (or a date and an int of days)" : "numbers";
    type_error(c, e.args[bad]->span, fmt::format("'{}' needs {}, got {}", op, want, type_name(t)),
               t.kind == TypeKind::String && e.bop == BinOp::Add ? "strings cannot be added" : "");
    return Type::error();
  }
  if (a.is_error() || b.is_error()) return Type::error();
  if (additive && (dateish(a) || dateish(b))) {
    if (dateish(a) && dateish(b)) {
      if (e.bop == BinOp::Add) {
        type_error(c, e.args[1]->span, "'+' cannot add two dates", "subtract them for the days between");
        return Type::error();
      }
      return Type::integer();
    }
    Type other = dateish(a) ? b : a;
    if (other.kind == TypeKind::Any) return Type::any();  // an int of days or a date: known at run time
    if (other.kind == TypeKind::Decimal) {
      type_error(c, e.args[dateish(a) ? 1 : 0]->span,
                 fmt::format("'{}' on a date needs an int of days, got decimal", op));
      return Type::error();
    }
    if (dateish(b) && e.bop == BinOp::Sub) {
      type_error(c, e.args[1]->span, "cannot subtract a date from a number", "write 'date - days'");
      return Type::error();
    }
    return Type::date();
  }
  if (a.kind == TypeKind::Any || b.kind == TypeKind::Any) return Type::any();
  if (e.bop == BinOp::Mod) {
    for (int i = 0; i < 2; ++i)
      if ((i ? b : a).kind == TypeKind::Decimal) {
        type_error(c, e.args[i]->span, "'%' needs int operands, got decimal");
        return Type::error();
      }
    return Type::integer();
  }
  if (e.bop == BinOp::Div) return Type::decimal();
  if (a.kind == TypeKind::Null) return b.kind == TypeKind::Null ? Type::null() : b;
  if (b.kind == TypeKind::Null) return a;
  return a.kind == TypeKind::Int && b.kind == TypeKind::Int ? Type::integer() : Type::decimal();
}

}  // namespace crm::lang::detail
