// Lint warnings after checking: rules that can never fire (constant folding plus the known
// ranges of builtin attributes), messages never sent and definitions never used.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <set>

#include "lang/check_context.hpp"
#include "lang/diagnostic_codes.hpp"

namespace crm::lang::detail {

namespace {

// A folded value. NeverTrue: FALSE or unknown, which one is not known; Unknown: not constant.
struct Folded {
  enum class K { Unknown, NeverTrue, Null, Bool, Num, Str, Date } k = K::Unknown;
  bool b = false;
  double num = 0;
  std::string s;
  // Why the value is never TRUE (filled for NeverTrue, and for False/Null found by folding).
  std::optional<NeverTrue> why;
};

bool never(const Folded& f) {
  return f.k == Folded::K::NeverTrue || f.k == Folded::K::Null || (f.k == Folded::K::Bool && !f.b);
}

// The values a builtin can take: counts and day counts are >= 0, ... (SPEC §5).
struct Range {
  double lo, hi;
  std::string what;
};

std::optional<Range> range_of(const Expr& e) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (e.kind == Expr::Kind::Name) {
    static const char* non_negative[] = {"purchase_count", "referral_count", "days_since", "days_since_first_purchase",
                                         "days_since_last_purchase", "days_since_signup", "subscription.months",
                                         "subscription.cycles", "age"};
    for (const char* n : non_negative)
      if (e.text == n) return Range{0, inf, e.text};
    if (e.text == "days_until_birthday") return Range{0, 365, e.text};
    if (e.text == "satisfaction") return Range{1, 5, e.text};
  }
  if (e.kind == Expr::Kind::Call && e.args.size() == 1) {
    if (e.text == "len") return Range{0, inf, "len()"};
    if (e.text == "month") return Range{1, 12, "month()"};
    if (e.text == "day") return Range{1, 31, "day()"};
  }
  return std::nullopt;
}

std::string range_reason(const Range& r) {
  if (std::isinf(r.hi)) return fmt::format("{} is never negative", r.what);
  return fmt::format("{} is always between {} and {}", r.what, r.lo, r.hi);
}

// Can `v op c` be TRUE for some integer v in r?
bool possible(const Range& r, BinOp op, double c) {
  switch (op) {
    case BinOp::Eq: return c >= r.lo && c <= r.hi && std::floor(c) == c;
    case BinOp::Lt: return r.lo < c;
    case BinOp::Le: return r.lo <= c;
    case BinOp::Gt: return r.hi > c;
    case BinOp::Ge: return r.hi >= c;
    default: return true;
  }
}

BinOp flip(BinOp op) {
  switch (op) {
    case BinOp::Lt: return BinOp::Gt;
    case BinOp::Le: return BinOp::Ge;
    case BinOp::Gt: return BinOp::Lt;
    case BinOp::Ge: return BinOp::Le;
    default: return op;
  }
}

Folded make_bool(bool b) {
  Folded f;
  f.k = Folded::K::Bool;
  f.b = b;
  return f;
}

Folded make_null() {
  Folded f;
  f.k = Folded::K::Null;
  return f;
}

Folded fold(const Expr& e, int depth);

Folded compare(const Expr& e, int depth) {
  Folded a = fold(*e.args[0], depth + 1), b = fold(*e.args[1], depth + 1);
  using K = Folded::K;
  if (a.k == K::Null || b.k == K::Null) return make_null();
  // A ranged builtin compared with a number.
  for (int side = 0; side < 2; ++side) {
    const Expr& x = *e.args[side];
    const Folded& c = side ? a : b;
    if (c.k != K::Num) continue;
    if (auto r = range_of(x)) {
      BinOp op = side ? flip(e.bop) : e.bop;
      if (!possible(*r, op, c.num)) {
        Folded f;
        f.k = K::NeverTrue;
        f.why = NeverTrue{e.span, range_reason(*r)};
        return f;
      }
    }
  }
  if (a.k != b.k || a.k == K::Unknown || a.k == K::NeverTrue) return {};
  int cmp = 0;
  if (a.k == K::Num || a.k == K::Date) cmp = a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  else if (a.k == K::Str) cmp = a.s.compare(b.s) < 0 ? -1 : a.s.compare(b.s) > 0 ? 1 : 0;
  else if (a.k == K::Bool) cmp = int(a.b) - int(b.b);
  switch (e.bop) {
    case BinOp::Eq: return make_bool(cmp == 0);
    case BinOp::Ne: return make_bool(cmp != 0);
    case BinOp::Lt: return make_bool(cmp < 0);
    case BinOp::Le: return make_bool(cmp <= 0);
    case BinOp::Gt: return make_bool(cmp > 0);
    case BinOp::Ge: return make_bool(cmp >= 0);
    default: return {};
  }
}

Folded fold(const Expr& e, int depth) {
  using K = Folded::K;
  Folded f;
  if (depth > kMaxExprDepth) return f;
  switch (e.kind) {
    case Expr::Kind::Int:
      f.k = K::Num;
      f.num = static_cast<double>(e.ival);
      return f;
    case Expr::Kind::Decimal:
      f.k = K::Num;
      f.num = e.dval;
      return f;
    case Expr::Kind::String:
      f.k = K::Str;
      f.s = e.text;
      return f;
    case Expr::Kind::Bool: return make_bool(e.ival != 0);
    case Expr::Kind::Null: return make_null();
    case Expr::Kind::Date:
      f.k = K::Date;
      f.num = static_cast<double>(e.ival);
      return f;
    case Expr::Kind::IsNull: {
      if (e.args.empty() || !e.args[0]) return f;
      Folded a = fold(*e.args[0], depth + 1);
      if (a.k == K::Unknown || a.k == K::NeverTrue) return f;
      return make_bool((a.k == K::Null) != e.negated);
    }
    case Expr::Kind::Unary: {
      if (e.args.empty() || !e.args[0]) return f;
      Folded a = fold(*e.args[0], depth + 1);
      if (a.k == K::Null) return a;
      if (e.uop == UnOp::Not && a.k == K::Bool) return make_bool(!a.b);
      if (e.uop == UnOp::Neg && a.k == K::Num) {
        a.num = -a.num;
        return a;
      }
      return f;
    }
    case Expr::Kind::Binary: {
      if (e.args.size() < 2 || !e.args[0] || !e.args[1]) return f;
      if (e.bop == BinOp::And || e.bop == BinOp::Or) {
        Folded a = fold(*e.args[0], depth + 1), b = fold(*e.args[1], depth + 1);
        bool is_and = e.bop == BinOp::And;
        auto truth = [](const Folded& x) { return x.k == K::Bool && x.b; };
        auto falsity = [](const Folded& x) { return x.k == K::Bool && !x.b; };
        if (is_and) {
          if (falsity(a) || falsity(b)) {
            Folded r = make_bool(false);
            r.why = falsity(a) ? a.why : b.why;
            return r;
          }
          if (never(a) || never(b)) {
            Folded r;
            r.k = (a.k == K::Null || truth(a)) && (b.k == K::Null || truth(b)) ? K::Null : K::NeverTrue;
            r.why = never(a) ? a.why : b.why;
            return r;
          }
          if (truth(a) && truth(b)) return make_bool(true);
          return f;
        }
        if (truth(a) || truth(b)) return make_bool(true);
        if (never(a) && never(b)) {
          Folded r;
          r.k = falsity(a) && falsity(b) ? K::Bool : K::NeverTrue;
          r.why = a.why ? a.why : b.why;
          return r;
        }
        return f;
      }
      switch (e.bop) {
        case BinOp::Eq:
        case BinOp::Ne:
        case BinOp::Lt:
        case BinOp::Le:
        case BinOp::Gt:
        case BinOp::Ge: return compare(e, depth);
        case BinOp::Add:
        case BinOp::Sub:
        case BinOp::Mul: {
          Folded a = fold(*e.args[0], depth + 1), b = fold(*e.args[1], depth + 1);
          if (a.k == K::Null || b.k == K::Null) return make_null();
          if (a.k != K::Num || b.k != K::Num) return f;
          f.k = K::Num;
          f.num = e.bop == BinOp::Add ? a.num + b.num : e.bop == BinOp::Sub ? a.num - b.num : a.num * b.num;
          return f;
        }
        default: return f;
      }
    }
    default: return f;
  }
}

}  // namespace

std::optional<NeverTrue> never_true(const Expr& condition) {
  Folded f = fold(condition, 0);
  if (!never(f)) return std::nullopt;
  if (f.why) return f.why;
  if (f.k == Folded::K::Null) return NeverTrue{condition.span, "its condition is always null (unknown)"};
  if (f.k == Folded::K::Bool) return NeverTrue{condition.span, "its condition is always false"};
  return NeverTrue{condition.span, "its condition is never true"};
}

void lint(const CheckedProgram& program, const std::map<std::string, DefEntry>& defs,
          const std::map<std::string, MsgEntry>& msgs, const std::set<const SourceFile*>& broken,
          Diagnostics& diags) {
  // A file that did not parse gets no lint: a rule that failed to parse would make its message
  // look unused, and the parser's placeholders would look like constant conditions.
  bool any_broken = !broken.empty();
  for (const auto& r : program.rules) {
    if (broken.count(r.file.get())) continue;
    for (const Expr* c : r.conditions) {
      if (!c) continue;
      if (auto n = never_true(*c)) {
        diags.warning(r.file, n->span, code::never_fires, fmt::format("rule '{}' can never fire: {}", r.name, n->reason),
                      "check the condition's numbers and operators");
        break;
      }
    }
    if (r.unless) {
      Folded f = fold(*r.unless, 0);
      if (f.k == Folded::K::Bool && f.b)
        diags.warning(r.file, r.unless->span, code::never_fires,
                      fmt::format("rule '{}' can never fire: its 'unless' is always true", r.name));
    }
  }
  // Usage anywhere counts, so a broken file anywhere can hide a use. A script without any rule
  // is a library (like stdlib/lifecycle.crm): its definitions and messages are there to be
  // imported, so they are not reported as unused.
  bool library = program.rules.empty();
  for (const auto& [name, m] : msgs)
    if (m.given && !m.used && !any_broken && !library)
      diags.warning(m.file, m.msg->name_span, code::unused_message, fmt::format("message '{}' is never sent", name),
                    "send it from a rule, or remove it");
  for (const auto& [name, d] : defs)
    if (d.given && !d.used && !any_broken && !library)
      diags.warning(d.file, d.def->name_span, code::unused_definition,
                    fmt::format("{} '{}' is never used", d.def->segment ? "segment" : "let", name),
                    "use it in a rule, or remove it");
}

}  // namespace crm::lang::detail
