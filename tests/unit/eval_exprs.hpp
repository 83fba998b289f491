// Test helpers for the evaluator: typed lang::Expr trees built in C++ (types set as the checker
// would) and Frames built column by column. Used by test_eval.cpp and tests/bench/crm_bench.cpp.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "engine/frame/frame.hpp"
#include "lang/ast.hpp"
#include "lang/builtins.hpp"

namespace crm::test {

using lang::BinOp;
using lang::Expr;
using lang::ExprPtr;
using lang::Type;
using lang::TypeKind;

// An expression under construction (moves its tree into the operators).
struct E {
  ExprPtr p;
  E(ExprPtr x) : p(std::move(x)) {}
  E(const E& o) : p(o.p->clone()) {}  // brace lists copy their elements
  E(E&&) = default;
  E& operator=(E&&) = default;
  const Expr& operator*() const { return *p; }
};

inline E make(Expr::Kind k, Type t) {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->type = t;
  return E(std::move(e));
}

inline E I(int64_t v) {
  E e = make(Expr::Kind::Int, Type::integer());
  e.p->ival = v;
  return e;
}
inline E D(double v) {
  E e = make(Expr::Kind::Decimal, Type::decimal());
  e.p->dval = v;
  return e;
}
inline E S(std::string v) {
  E e = make(Expr::Kind::String, Type::string());
  e.p->text = std::move(v);
  return e;
}
inline E B(bool v) {
  E e = make(Expr::Kind::Bool, Type::boolean());
  e.p->ival = v;
  return e;
}
inline E Null() { return make(Expr::Kind::Null, Type::null()); }
inline E Dt(Days d) {
  E e = make(Expr::Kind::Date, Type::date());
  e.p->ival = d;
  return e;
}
// An attribute (type from the builtin registry unless given) or a definition's name.
inline E A(std::string name, std::optional<Type> t = std::nullopt) {
  Type ty = t ? *t : Type::error();
  if (!t)
    if (const auto* info = stdlib::find_attribute(name)) ty = info->type;
  E e = make(Expr::Kind::Name, ty);
  e.p->text = std::move(name);
  return e;
}
inline E L(std::vector<E> elems) {
  TypeKind elem = TypeKind::Null;
  for (auto& x : elems) {
    TypeKind k = x.p->type.kind;
    if (elem == TypeKind::Null || (elem == TypeKind::Int && k == TypeKind::Decimal)) elem = k;
  }
  E e = make(Expr::Kind::List, Type::list(elem));
  for (auto& x : elems) e.p->args.push_back(std::move(x.p));
  return e;
}

inline Type arith_type(BinOp op, Type a, Type b) {
  if (a.kind == TypeKind::Date && b.kind == TypeKind::Date) return Type::integer();
  if (a.kind == TypeKind::Date || b.kind == TypeKind::Date) return Type::date();
  if (op == BinOp::Div) return Type::decimal();
  if (a.kind == TypeKind::Decimal || b.kind == TypeKind::Decimal) return Type::decimal();
  return Type::integer();
}

inline E bin(BinOp op, E a, E b) {
  Type t = Type::boolean();
  if (op == BinOp::Add || op == BinOp::Sub || op == BinOp::Mul || op == BinOp::Div || op == BinOp::Mod)
    t = arith_type(op, a.p->type, b.p->type);
  E e = make(Expr::Kind::Binary, t);
  e.p->bop = op;
  e.p->args.push_back(std::move(a.p));
  e.p->args.push_back(std::move(b.p));
  return e;
}
inline E operator&&(E a, E b) { return bin(BinOp::And, std::move(a), std::move(b)); }
inline E operator||(E a, E b) { return bin(BinOp::Or, std::move(a), std::move(b)); }
inline E operator==(E a, E b) { return bin(BinOp::Eq, std::move(a), std::move(b)); }
inline E operator!=(E a, E b) { return bin(BinOp::Ne, std::move(a), std::move(b)); }
inline E operator<(E a, E b) { return bin(BinOp::Lt, std::move(a), std::move(b)); }
inline E operator<=(E a, E b) { return bin(BinOp::Le, std::move(a), std::move(b)); }
inline E operator>(E a, E b) { return bin(BinOp::Gt, std::move(a), std::move(b)); }
inline E operator>=(E a, E b) { return bin(BinOp::Ge, std::move(a), std::move(b)); }
inline E operator+(E a, E b) { return bin(BinOp::Add, std::move(a), std::move(b)); }
inline E operator-(E a, E b) { return bin(BinOp::Sub, std::move(a), std::move(b)); }
inline E operator*(E a, E b) { return bin(BinOp::Mul, std::move(a), std::move(b)); }
inline E operator/(E a, E b) { return bin(BinOp::Div, std::move(a), std::move(b)); }
inline E operator%(E a, E b) { return bin(BinOp::Mod, std::move(a), std::move(b)); }
inline E in(E a, E b) { return bin(BinOp::In, std::move(a), std::move(b)); }
inline E not_in(E a, E b) { return bin(BinOp::NotIn, std::move(a), std::move(b)); }
inline E operator!(E a) {
  E e = make(Expr::Kind::Unary, Type::boolean());
  e.p->uop = lang::UnOp::Not;
  e.p->args.push_back(std::move(a.p));
  return e;
}
inline E neg(E a) {
  E e = make(Expr::Kind::Unary, a.p->type);
  e.p->uop = lang::UnOp::Neg;
  e.p->args.push_back(std::move(a.p));
  return e;
}
inline E is_null(E a, bool negated = false) {
  E e = make(Expr::Kind::IsNull, Type::boolean());
  e.p->negated = negated;
  e.p->args.push_back(std::move(a.p));
  return e;
}
// A builtin call; the result type follows builtins.def.
inline E call(std::string fn, std::vector<E> args) {
  Type t = Type::integer();
  if (fn == "today") t = Type::date();
  if (fn == "has_tag") t = Type::boolean();
  if (fn == "lower" || fn == "upper") t = Type::string();
  if (fn == "coalesce" || fn == "min" || fn == "max" || fn == "abs") {
    t = Type::null();
    for (auto& a : args) {
      TypeKind k = a.p->type.kind;
      if (t.kind == TypeKind::Null || (t.kind == TypeKind::Int && k == TypeKind::Decimal)) t = a.p->type;
    }
  }
  E e = make(Expr::Kind::Call, t);
  e.p->text = std::move(fn);
  for (auto& a : args) e.p->args.push_back(std::move(a.p));
  return e;
}

// ------------------------------------------------------------------ frames

inline engine::Column& add_column(engine::Frame& f, const std::string& name, Type t) {
  engine::Column& c = f.columns[name];
  c.type = t;
  c.valid.assign(f.rows, 1);
  if (t.kind == TypeKind::List) c.list_offsets.assign(f.rows + 1, 0);
  else if (t.kind == TypeKind::Decimal) c.f64.assign(f.rows, 0);
  else c.i64.assign(f.rows, 0);
  return c;
}

// Sets a list column from per-row lists of strings (std::nullopt = null list).
inline void set_string_lists(engine::Frame& f, engine::Column& c, const std::vector<std::optional<std::vector<std::string>>>& rows) {
  c.list_offsets.assign(1, 0);
  c.list_values.clear();
  for (size_t r = 0; r < rows.size(); ++r) {
    c.valid[r] = rows[r].has_value();
    if (rows[r])
      for (const auto& s : *rows[r]) c.list_values.push_back(f.strings->intern(s));
    c.list_offsets.push_back(static_cast<uint32_t>(c.list_values.size()));
  }
}

}  // namespace crm::test
