// The parser's literals and expressions (part of the Parser, parser_impl.hpp): numbers, dates
// and strings decoded from their tokens, and expression trees converted to the flat Expr of
// ast.hpp with their height bounded by kMaxNestingDepth.
#include <fmt/format.h>

#include <charconv>

#include "lang/diagnostic_codes.hpp"
#include "lang/parser_impl.hpp"
#include "lang/parser_support.hpp"

namespace crm::lang::parser_detail {

int64_t Parser::int_value(const Node& n) {
  std::string_view s = n.string_view();
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') continue;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (static_cast<uint64_t>(INT64_MAX) - d) / 10) {
      diags_.error(file_, span(n), code::int_overflow,
                   "integer literal " + std::string(s) + " does not fit in 64 bits", "the largest integer is 9223372036854775807");
      return 0;
    }
    v = v * 10 + d;
  }
  return static_cast<int64_t>(v);
}

int64_t Parser::signed_value(const Node& n) {
  std::string_view s = n.string_view();
  bool neg = !s.empty() && s[0] == '-';
  int64_t v = int_value(n);
  return neg ? -v : v;
}

double Parser::decimal_value(const Node& n) {
  std::string clean;
  for (char c : n.string_view())
    if (c != '_') clean += c;
  double d = 0;
  std::from_chars(clean.data(), clean.data() + clean.size(), d);
  return d;
}

Days Parser::date_value(const Node& n) {
  std::string_view s = n.string_view();
  if (auto d = parse_date(s)) return *d;
  bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-';
  diags_.error(file_, span(n), code::bad_date,
               // fmt, not operator+: GCC 12 warns -Wrestrict (a false positive) on "'" + std::string
               shape ? fmt::format("'{}' is not a valid calendar date", s) : fmt::format("invalid date literal '{}'", s),
               shape ? "" : "write dates as YYYY-MM-DD, e.g. 2026-12-01; write 'a - b' with spaces to subtract");
  return 0;
}

std::string Parser::decode_string(const Node& n) {
  std::string out;
  std::string_view s = n.string_view();
  uint32_t base = begin(n);
  if (s.size() < 2) return out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == '"' || c == '\\') out += c;
    else if (c == 'u') {
      size_t close = s.find('}', i);
      uint32_t cp = 0;
      for (size_t k = i + 2; k < close; ++k) cp = cp * 16 + hex_value(s[k]);
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        diags_.error(file_, {base + static_cast<uint32_t>(i - 1), base + static_cast<uint32_t>(close + 1)},
                     code::bad_escape, "\\u{...} escape is not a valid Unicode code point",
                     "code points go up to 10FFFF and exclude the surrogates D800-DFFF");
      } else {
        append_utf8(out, cp);
      }
      i = close;
    }
  }
  return out;
}

ExprPtr Parser::make(Expr::Kind k, Span sp) {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->span = sp;
  return e;
}

ExprPtr Parser::expr(const Node& n) {
  too_deep_reported_ = false;
  int depth = 0;
  return expr(n, depth);
}

ExprPtr Parser::expr(const Node& n, int& depth) {
  depth = 1;
  Span sp = span(n);
  if (n.is_type<g::number>()) {
    std::string_view s = n.string_view();
    bool dec = s.find('.') != std::string_view::npos;
    auto e = make(dec ? Expr::Kind::Decimal : Expr::Kind::Int, sp);
    e->text = std::string(s);
    if (dec) e->dval = decimal_value(n);
    else e->ival = int_value(n);
    return e;
  }
  if (n.is_type<g::date_lit>()) {
    auto e = make(Expr::Kind::Date, sp);
    e->ival = date_value(n);
    e->text = std::string(n.string_view());
    return e;
  }
  if (n.is_type<g::string_lit>()) {
    auto e = make(Expr::Kind::String, sp);
    e->text = decode_string(n);
    return e;
  }
  if (n.is_type<g::true_lit>() || n.is_type<g::false_lit>()) {
    auto e = make(Expr::Kind::Bool, sp);
    e->ival = n.is_type<g::true_lit>();
    return e;
  }
  if (n.is_type<g::null_lit>()) return make(Expr::Kind::Null, sp);
  if (n.is_type<g::dotted_name>()) {
    std::string t(n.string_view());
    auto e = make(t == "today" ? Expr::Kind::Call : Expr::Kind::Name, sp);
    e->text = std::move(t);
    return e;
  }
  if (n.is_type<g::list_lit>() || n.is_type<g::call>()) {
    bool call = n.is_type<g::call>();
    auto e = make(call ? Expr::Kind::Call : Expr::Kind::List, sp);
    for (const auto& ch : n.children) {
      if (ch->is_type<g::func_name>()) {
        e->text = std::string(ch->string_view());
        continue;
      }
      int d = 0;
      e->args.push_back(expr(*ch, d));
      depth = std::max(depth, d + 1);
    }
    return check_depth(std::move(e), depth);
  }
  if (n.is_type<g::paren_expr>()) {
    if (n.children.empty()) return make(Expr::Kind::Null, sp);
    int d = 0;
    auto inner = expr(*n.children[0], d);
    depth = d + 1;  // counted so that '((((x))))' is bounded like other nesting
    inner->parenthesized = true;
    inner->span = sp;
    return check_depth(std::move(inner), depth);
  }
  if (n.is_type<g::negative>() || n.is_type<g::negation>()) {
    auto e = make(Expr::Kind::Unary, sp);
    e->uop = n.is_type<g::negative>() ? UnOp::Neg : UnOp::Not;
    int d = 0;
    if (!n.children.empty()) {
      e->args.push_back(expr(*n.children[0], d));
      e->span.end = e->args[0]->span.end;
    }
    depth = d + 1;
    return check_depth(std::move(e), depth);
  }
  if (n.is_type<g::cmp_expr>() && n.children.size() == 2 && n.children[1]->is_type<g::is_null>()) {
    int d = 0;
    auto lhs = expr(*n.children[0], d);
    auto e = make(Expr::Kind::IsNull, {lhs->span.begin, offset(n.children[1]->m_end.data)});
    e->negated = !n.children[1]->children.empty();
    e->args.push_back(std::move(lhs));
    depth = d + 1;
    return check_depth(std::move(e), depth);
  }
  // A binary chain: operand { op operand }, folded to the left.
  if (n.children.empty()) return make(Expr::Kind::Null, sp);
  int d = 0;
  ExprPtr acc = expr(*n.children[0], d);
  depth = d;
  for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
    int rd = 0;
    ExprPtr rhs = expr(*n.children[i + 1], rd);
    auto e = make(Expr::Kind::Binary, {acc->span.begin, rhs->span.end});
    e->bop = binop(*n.children[i]);
    e->args.push_back(std::move(acc));
    e->args.push_back(std::move(rhs));
    depth = std::max(depth, rd) + 1;
    acc = check_depth(std::move(e), depth);
    if (acc->kind == Expr::Kind::Null && depth > kMaxNestingDepth) return acc;
  }
  return acc;
}

ExprPtr Parser::check_depth(ExprPtr e, int depth) {
  if (depth <= kMaxNestingDepth) return e;
  if (!too_deep_reported_) {
    diags_.error(file_, e->span, code::too_deep,
                 "expression nested too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)",
                 "split it into smaller parts with 'let'");
    too_deep_reported_ = true;
  }
  return make(Expr::Kind::Null, e->span);
}

BinOp Parser::binop(const Node& n) {
  if (n.is_type<g::op_or>()) return BinOp::Or;
  if (n.is_type<g::op_and>()) return BinOp::And;
  if (n.is_type<g::op_eq>()) return BinOp::Eq;
  if (n.is_type<g::op_ne>()) return BinOp::Ne;
  if (n.is_type<g::op_lt>()) return BinOp::Lt;
  if (n.is_type<g::op_le>()) return BinOp::Le;
  if (n.is_type<g::op_gt>()) return BinOp::Gt;
  if (n.is_type<g::op_ge>()) return BinOp::Ge;
  if (n.is_type<g::op_in>()) return BinOp::In;
  if (n.is_type<g::op_not_in>()) return BinOp::NotIn;
  if (n.is_type<g::op_add>()) return BinOp::Add;
  if (n.is_type<g::op_sub>()) return BinOp::Sub;
  if (n.is_type<g::op_mul>()) return BinOp::Mul;
  if (n.is_type<g::op_div>()) return BinOp::Div;
  return BinOp::Mod;
}

}  // namespace crm::lang::parser_detail
