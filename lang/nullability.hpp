// Whether an expression can be null, as far as the checker can tell from the text: used to warn
// about a subject placeholder that may render as nothing (W-subject-null). Conservative: "may be
// null" unless the value is a literal, a never-null builtin, or built only from never-null parts.
#pragma once
#include <string_view>

#include "lang/ast.hpp"

namespace crm::lang {

// The builtin attributes that always have a value (docs/builtins.md): counts and sums are 0,
// lists empty, subscription.active false without a subscription.
inline bool never_null_attribute(std::string_view name) {
  for (std::string_view n : {"id", "purchase_count", "total_spent", "net_spent", "refund_count", "purchased",
                             "last_purchased", "categories", "subscription.active", "referral_count", "tags",
                             "order.id", "order.date", "order.skus", "order.total", "event.type"})
    if (n == name) return true;
  return false;
}

// `definition(name)` gives the expression of a let/segment definition (nullptr when `name` is
// not one). Names of anything else (extra columns, payload fields) may be null.
template <typename DefinitionExpr>
bool can_be_null(const Expr& e, DefinitionExpr&& definition, int depth = 0) {
  if (depth > 64) return true;  // a cycle (an error of its own) or absurd nesting
  auto any = [&](size_t from) {
    for (size_t i = from; i < e.args.size(); ++i)
      if (!e.args[i] || can_be_null(*e.args[i], definition, depth + 1)) return true;
    return false;
  };
  switch (e.kind) {
    case Expr::Kind::Null: return true;
    case Expr::Kind::Int:
    case Expr::Kind::Decimal:
    case Expr::Kind::String:
    case Expr::Kind::Bool:
    case Expr::Kind::Date:
    case Expr::Kind::List:
    case Expr::Kind::IsNull: return false;
    case Expr::Kind::Name:
      if (const Expr* d = definition(e.text)) return can_be_null(*d, definition, depth + 1);
      return !never_null_attribute(e.text);
    case Expr::Kind::Call:
      if (e.text == "coalesce") {  // null only when every argument may be
        for (const auto& a : e.args)
          if (a && !can_be_null(*a, definition, depth + 1)) return false;
        return true;
      }
      if (e.text == "today" || e.text == "len" || e.text == "has_tag" || e.text == "bought_category" ||
          e.text == "purchases_in" || e.text == "spent_in")
        return e.text == "len" || e.text == "has_tag" || e.text == "bought_category" ? any(0) : false;
      return any(0);
    case Expr::Kind::Unary: return any(0);
    case Expr::Kind::Binary:  // x / 0 and x % 0 are null
      return e.bop == BinOp::Div || e.bop == BinOp::Mod || any(0);
  }
  return true;
}

}  // namespace crm::lang
