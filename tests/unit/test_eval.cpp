// Unit tests of the compiled evaluator (engine/eval/program.hpp): SQL three-valued logic, null
// arithmetic, functions, strings, lists, shared definitions, tags between rules, batch
// boundaries, explain, and a randomized comparison against a small scalar reference interpreter.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "engine/eval/program.hpp"
#include "eval_exprs.hpp"
#include "lang/ast_printer.hpp"

using namespace crm;
using namespace crm::test;
using engine::Evaluator;
using engine::Frame;
using engine::NodeId;
using engine::Program;
using engine::ProgramBuilder;
using engine::Truth;
using engine::Value;

namespace {

constexpr Days kToday = days_from_civil(2026, 11, 23);

Frame one_row_frame() {
  Frame f;
  f.rows = 1;
  f.today = kToday;
  return f;
}

// The value of a column-free expression, in .crm spelling ("unknown" for a null bool).
std::string V(E e, Frame f = one_row_frame()) {
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  NodeId n = b.add_expression(*e);
  Program p = b.finish();
  REQUIRE_FALSE(diags.has_errors());
  Evaluator ev(p, f);
  ev.set_batch(0, 1);
  Value v = ev.value_at(n, 0);
  return v.to_string(e.p->type.kind == TypeKind::Bool);
}

// Every row's value of an expression over a frame.
std::vector<std::string> column_of(const E& e, const Frame& f) {
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  NodeId n = b.add_expression(*e);
  Program p = b.finish();
  REQUIRE_FALSE(diags.has_errors());
  Evaluator ev(p, f);
  std::vector<std::string> out;
  for (size_t begin = 0; begin < f.rows; begin += engine::kBatchRows) {
    ev.set_batch(begin, std::min(f.rows, begin + engine::kBatchRows));
    for (size_t i = 0; i < ev.batch_size(); ++i) out.push_back(ev.value_at(n, i).to_string(e.p->type.kind == TypeKind::Bool));
  }
  return out;
}

// Two bool columns p, q over the 9 combinations of true / false / unknown.
Frame truth_frame() {
  Frame f;
  f.rows = 9;
  auto& p = add_column(f, "p", Type::boolean());
  auto& q = add_column(f, "q", Type::boolean());
  for (size_t r = 0; r < 9; ++r) {
    int a = static_cast<int>(r / 3), b = static_cast<int>(r % 3);  // 0 false, 1 true, 2 unknown
    p.i64[r] = a == 1, p.valid[r] = a != 2;
    q.i64[r] = b == 1, q.valid[r] = b != 2;
  }
  return f;
}

const std::vector<std::string> kRowsPQ = {"false", "true", "unknown"};

}  // namespace

TEST_CASE("eval: and / or / not truth tables (all cases)") {
  Frame f = truth_frame();
  Type b = Type::boolean();
  // Rows: p in (false, true, unknown) x q in (false, true, unknown).
  CHECK(column_of(A("p", b) && A("q", b), f) ==
        std::vector<std::string>{"false", "false", "false", "false", "true", "unknown", "false", "unknown", "unknown"});
  CHECK(column_of(A("p", b) || A("q", b), f) ==
        std::vector<std::string>{"false", "true", "unknown", "true", "true", "true", "unknown", "true", "unknown"});
  auto nots = column_of(!A("p", b), f);
  CHECK(nots[0] == "true");
  CHECK(nots[3] == "false");
  CHECK(nots[6] == "unknown");
  // The same with constants (null literal as unknown).
  CHECK(V(B(false) && Null()) == "false");
  CHECK(V(Null() && B(false)) == "false");
  CHECK(V(B(true) && Null()) == "unknown");
  CHECK(V(B(true) || Null()) == "true");
  CHECK(V(Null() || B(false)) == "unknown");
  CHECK(V(!Null()) == "unknown");
  CHECK(V(!B(true)) == "false");
}

TEST_CASE("eval: comparisons with null are unknown; is null never is") {
  CHECK(V(I(1) == Null()) == "unknown");
  CHECK(V(Null() != I(1)) == "unknown");
  CHECK(V(Null() == Null()) == "unknown");
  CHECK(V(D(2.5) < Null()) == "unknown");
  CHECK(V(S("a") >= Null()) == "unknown");
  CHECK(V(is_null(Null())) == "true");
  CHECK(V(is_null(I(3))) == "false");
  CHECK(V(is_null(Null(), true)) == "false");
  CHECK(V(is_null(I(1) / I(0))) == "true");
  CHECK(V(I(3) == D(3.0)) == "true");
  CHECK(V(I(3) < D(3.5)) == "true");
  CHECK(V(B(true) == B(false)) == "false");
  CHECK(V(B(true) != B(false)) == "true");
}

TEST_CASE("eval: in and not in follow SQL with nulls") {
  CHECK(V(in(I(3), L({I(3), I(6), I(12)}))) == "true");
  CHECK(V(in(I(4), L({I(3), I(6), I(12)}))) == "false");
  CHECK(V(in(Null(), L({I(3), I(6)}))) == "unknown");
  CHECK(V(in(I(4), L({I(3), Null()}))) == "unknown");
  CHECK(V(in(I(3), L({I(3), Null()}))) == "true");
  CHECK(V(not_in(I(4), L({I(3), I(6)}))) == "true");
  CHECK(V(not_in(I(4), L({I(3), Null()}))) == "unknown");
  CHECK(V(not_in(I(3), L({I(3), Null()}))) == "false");
  CHECK(V(in(S("a"), L({S("a"), S("b")}))) == "true");
  CHECK(V(in(S("zzz-never"), L({S("a"), S("b")}))) == "false");
  CHECK(V(in(I(2), L({D(2.0), D(2.5)}))) == "true");
  CHECK(V(in(D(2.5), L({I(2), I(3)}))) == "false");
  CHECK(V(in(I(3), L({}))) == "false");
  // Non-constant elements: x in [a, b] is x == a or x == b.
  Frame f = one_row_frame();
  auto& c = add_column(f, "n", Type::integer());
  c.i64[0] = 6;
  CHECK(V(in(I(6), L({I(1), A("n", Type::integer())})), f) == "true");
  c.valid[0] = 0;
  CHECK(V(in(I(6), L({I(1), A("n", Type::integer())})), f) == "unknown");
  CHECK(V(in(I(1), L({I(1), A("n", Type::integer())})), f) == "true");
}

TEST_CASE("eval: integer overflow and division by zero give null") {
  CHECK(V(I(INT64_MAX) + I(1)) == "null");
  CHECK(V(I(INT64_MIN) - I(1)) == "null");
  CHECK(V(I(INT64_MAX) * I(2)) == "null");
  CHECK(V(I(INT64_MAX) - I(1)) == std::to_string(INT64_MAX - 1));
  CHECK(V(neg(A("x", Type::integer())), [] {
          Frame f = one_row_frame();
          add_column(f, "x", Type::integer()).i64[0] = INT64_MIN;
          return f;
        }()) == "null");
  CHECK(V(call("abs", {A("x", Type::integer())}), [] {
          Frame f = one_row_frame();
          add_column(f, "x", Type::integer()).i64[0] = INT64_MIN;
          return f;
        }()) == "null");
  CHECK(V(I(5) / I(0)) == "null");
  CHECK(V(I(5) % I(0)) == "null");
  CHECK(V(D(5.0) / D(0.0)) == "null");
  CHECK(V(D(5.0) % D(0.0)) == "null");
  CHECK(V(D(1e308) * D(10.0)) == "null");  // inf -> null
  CHECK(V(I(INT64_MIN) % I(-1)) == "0");
}

TEST_CASE("eval: int / int is decimal; mixed arithmetic widens") {
  CHECK(V(I(7) / I(2)) == "3.5");
  CHECK(V(I(6) / I(3)) == "2.0");
  CHECK(V(I(1) + D(2.5)) == "3.5");
  CHECK(V(D(2.5) * I(2)) == "5.0");
  CHECK(V(I(7) % I(3)) == "1");
  CHECK(V(I(-7) % I(3)) == "-1");
  CHECK(V(I(7) - I(10)) == "-3");
  CHECK(V(neg(I(4)) * I(2)) == "-8");
  CHECK(V(D(7.5) % D(2.0)) == "1.5");
}

TEST_CASE("eval: date arithmetic") {
  Days d = days_from_civil(2026, 12, 1);
  CHECK(V(Dt(d) + I(30)) == "2026-12-31");
  CHECK(V(I(31) + Dt(d)) == "2027-01-01");
  CHECK(V(Dt(d) - I(1)) == "2026-11-30");
  CHECK(V(Dt(d) - Dt(kToday)) == "8");
  CHECK(V(call("today", {})) == "2026-11-23");
  CHECK(V(call("days_between", {call("today", {}), Dt(d)})) == "8");
  CHECK(V(call("year", {Dt(d)})) == "2026");
  CHECK(V(call("month", {Dt(d)})) == "12");
  CHECK(V(call("day", {Dt(d)})) == "1");
  CHECK(V(Dt(d) > call("today", {})) == "true");
  CHECK(V(call("year", {Null()})) == "null");
  CHECK(V(Dt(d) + I(INT64_MAX)) == "null");
}

TEST_CASE("eval: functions, including nulls") {
  CHECK(V(call("coalesce", {Null(), I(2), I(3)})) == "2");
  CHECK(V(call("coalesce", {Null(), Null()})) == "null");
  CHECK(V(call("coalesce", {Null(), D(1.5)})) == "1.5");
  CHECK(V(call("coalesce", {I(1), D(1.5)})) == "1.0");
  CHECK(V(call("min", {I(4), I(2), I(9)})) == "2");
  CHECK(V(call("max", {I(4), I(2), I(9)})) == "9");
  CHECK(V(call("max", {I(3), D(5.5)})) == "5.5");
  CHECK(V(call("min", {I(1), Null()})) == "null");
  CHECK(V(call("max", {Dt(kToday), Dt(kToday + 1)})) == "2026-11-24");
  CHECK(V(call("abs", {I(-3)})) == "3");
  CHECK(V(call("abs", {D(-2.5)})) == "2.5");
  CHECK(V(call("abs", {Null()})) == "null");
  CHECK(V(call("len", {S("日本語")})) == "3");
  CHECK(V(call("len", {S("")})) == "0");
  CHECK(V(call("len", {L({I(1), I(2)})})) == "2");
  CHECK(V(call("lower", {S("AbC")})) == "\"abc\"");
  CHECK(V(call("upper", {S("AbC")})) == "\"ABC\"");
  CHECK(V(call("upper", {Null()})) == "null");
  CHECK(V(call("lower", {S("AbC")}) == S("abc")) == "true");
  CHECK(V(call("len", {Null()})) == "null");
  CHECK(V(call("days_between", {Null(), Dt(kToday)})) == "null");
  CHECK(V(call("days_between", {Dt(kToday), Null()})) == "null");
  CHECK(V(call("month", {Null()})) == "null");
  CHECK(V(call("day", {Null()})) == "null");
  CHECK(V(call("lower", {Null()})) == "null");
  CHECK(V(call("max", {Null(), I(3)})) == "null");
  CHECK(V(call("coalesce", {Null(), call("today", {})})) == "2026-11-23");
  CHECK(V(call("has_tag", {S("vip")})) == "unknown");  // no tags column: the list is null
  CHECK(V(call("month", {Dt(days_from_civil(2024, 2, 29))})) == "2");
  CHECK(V(call("day", {Dt(days_from_civil(2024, 2, 29))})) == "29");
}

TEST_CASE("eval: strings compare by id for equality and by text for ordering") {
  Frame f;
  f.rows = 4;
  auto& c = add_column(f, "name", Type::string());
  const char* names[] = {"bob", "alice", "Carol", "bob"};
  for (size_t r = 0; r < 4; ++r) c.i64[r] = f.strings->intern(names[r]);
  c.valid[3] = 0;
  CHECK(column_of(A("name") == S("bob"), f) == std::vector<std::string>{"true", "false", "false", "unknown"});
  CHECK(column_of(A("name") != S("bob"), f) == std::vector<std::string>{"false", "true", "true", "unknown"});
  CHECK(column_of(A("name") < S("b"), f) == std::vector<std::string>{"false", "true", "true", "unknown"});
  CHECK(column_of(A("name") >= S("bob"), f) == std::vector<std::string>{"true", "false", "false", "unknown"});
  CHECK(column_of(A("name") == S("never-seen"), f) == std::vector<std::string>{"false", "false", "false", "unknown"});
  CHECK(column_of(call("upper", {A("name")}) == S("CAROL"), f) ==
        std::vector<std::string>{"false", "false", "true", "unknown"});
  CHECK(column_of(call("lower", {A("name")}), f) == std::vector<std::string>{"\"bob\"", "\"alice\"", "\"carol\"", "null"});
  CHECK(column_of(call("len", {A("name")}), f) == std::vector<std::string>{"3", "5", "5", "null"});
}

TEST_CASE("eval: list columns with in, not in, len, has_tag, is null") {
  Frame f;
  f.rows = 4;
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  set_string_lists(f, tags, {std::vector<std::string>{"vip", "new"}, std::vector<std::string>{}, std::nullopt,
                             std::vector<std::string>{"x"}});
  CHECK(column_of(in(S("vip"), A("tags")), f) == std::vector<std::string>{"true", "false", "unknown", "false"});
  CHECK(column_of(not_in(S("vip"), A("tags")), f) == std::vector<std::string>{"false", "true", "unknown", "true"});
  CHECK(column_of(call("has_tag", {S("x")}), f) == std::vector<std::string>{"false", "false", "unknown", "true"});
  CHECK(column_of(call("len", {A("tags")}), f) == std::vector<std::string>{"2", "0", "null", "1"});
  CHECK(column_of(is_null(A("tags")), f) == std::vector<std::string>{"false", "false", "true", "false"});
  CHECK(column_of(in(S("never-interned"), A("tags")), f) == std::vector<std::string>{"false", "false", "unknown", "false"});
  CHECK(column_of(in(Null(), A("tags")), f) == std::vector<std::string>{"unknown", "unknown", "unknown", "unknown"});
  // A missing list column behaves as null.
  CHECK(column_of(in(S("SKU1"), A("purchased")), f) == std::vector<std::string>{"unknown", "unknown", "unknown", "unknown"});
}

TEST_CASE("eval: definitions and identical sub-expressions run once per batch") {
  Frame f;
  f.rows = 3;
  auto& pc = add_column(f, "purchase_count", Type::integer());
  auto& ts = add_column(f, "total_spent", Type::decimal());
  pc.i64 = {12, 1, 3};
  ts.f64 = {10.0, 200000.0, 5.0};
  lang::Definition vip, vip2;
  vip.segment = true;
  vip.name = "vip";
  vip.expr = (A("total_spent") >= I(100000) || A("purchase_count") >= I(10)).p;
  vip2.name = "vip2";  // identical expression: shares the same instructions
  vip2.expr = (A("total_spent") >= I(100000) || A("purchase_count") >= I(10)).p;
  E r1 = A("vip", Type::boolean()) && A("purchase_count") > I(2);
  E r2 = A("vip2", Type::boolean()) && A("purchase_count") < I(5);
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_definition(vip);
  b.add_definition(vip2);
  b.add_rule("r1", {r1.p.get()});
  b.add_rule("r2", {r2.p.get()});
  Program p = b.finish();
  REQUIRE_FALSE(diags.has_errors());
  CHECK(p.nodes()[p.rules()[0].condition].a == p.nodes()[p.rules()[1].condition].a);
  CHECK(p.required_columns() == std::vector<std::string>{"total_spent", "purchase_count"});
  Evaluator ev(p, f);
  ev.set_batch(0, 3);
  const Truth* t1 = ev.condition(0);
  CHECK(t1[0] == Truth::True);
  CHECK(t1[1] == Truth::False);
  CHECK(t1[2] == Truth::False);
  uint64_t after_first = ev.executed();
  CHECK(after_first == 7);  // 2 loads, 2 compares, or; the rule's compare and the and
  const Truth* t2 = ev.condition(1);
  CHECK(t2[1] == Truth::True);
  CHECK(t2[0] == Truth::False);
  CHECK(ev.executed() - after_first == 2);  // only `purchase_count < 5` and the `and`
  ev.condition(0);
  CHECK(ev.executed() - after_first == 2);  // nothing new in the same batch
}

TEST_CASE("eval: commutative operations are one instruction in either order") {
  E r1 = A("purchase_count") == I(1) && A("days_since") == I(7);
  E r2 = A("days_since") == I(7) && I(1) == A("purchase_count");
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_rule("r1", {r1.p.get()});
  b.add_rule("r2", {r2.p.get()});
  Program p = b.finish();
  CHECK(p.rules()[0].condition == p.rules()[1].condition);
  CHECK(p.nodes().size() == 7);  // 2 loads, 2 constants, 2 compares, 1 and
  // The constant is the right operand, whatever the order written.
  const engine::Node& eq = p.nodes()[p.node_of(r2.p->args[1].get())];
  CHECK(p.nodes()[eq.b].op == engine::Op::Const);
}

TEST_CASE("eval: tags written between rules are seen by later rules") {
  Frame f;
  f.rows = 2;
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  set_string_lists(f, tags, {std::vector<std::string>{}, std::vector<std::string>{}});
  lang::Definition d;
  d.name = "is_vip";
  d.expr = in(S("vip"), A("tags")).p;
  E r = A("is_vip", Type::boolean());
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_definition(d);
  b.add_rule("reader", {r.p.get()});
  Program p = b.finish();
  Evaluator ev(p, f);
  ev.set_batch(0, 2);
  CHECK(ev.condition(0)[1] == Truth::False);
  set_string_lists(f, f.columns["tags"], {std::vector<std::string>{}, std::vector<std::string>{"vip"}});
  CHECK(ev.condition(0)[1] == Truth::True);
  CHECK(ev.condition(0)[0] == Truth::False);
  // Per-row reads after a call reuse its results instead of rerunning the tag instructions.
  uint64_t before = ev.executed();
  NodeId cond = p.rules()[0].condition;
  CHECK(ev.value_at(cond, 0).to_string() == "false");
  CHECK(ev.value_at(cond, 1).to_string() == "true");
  CHECK(ev.executed() == before);
}

TEST_CASE("eval: compile_program compiles rules, unless, exit_when, once per and points") {
  lang::CheckedProgram cp;
  lang::Definition seg;
  seg.segment = true;
  seg.name = "loyal";
  seg.expr = (A("purchase_count") >= I(2)).p;
  cp.definitions.push_back(&seg);
  E cond = A("loyal", Type::boolean());
  E unless = call("has_tag", {S("stop")});
  E exit_when = A("days_since") > I(100);
  E once = call("year", {call("today", {})});
  lang::Action pts;
  pts.kind = lang::ActionKind::Points;
  pts.points = (A("purchase_count") * I(10)).p;
  lang::Action send;
  std::vector<lang::Action> actions;
  actions.push_back(std::move(send));
  actions.push_back(std::move(pts));
  lang::FlatRule fr;
  fr.name = "aftercare.day_7";
  fr.conditions = {cond.p.get()};
  fr.unless = unless.p.get();
  fr.exit_when = exit_when.p.get();
  fr.once_per = once.p.get();
  fr.actions = &actions;
  cp.rules.push_back(fr);
  lang::Diagnostics diags;
  Program p = engine::compile_program(cp, diags);
  REQUIRE_FALSE(diags.has_errors());
  REQUIRE(p.rules().size() == 1);
  const auto& r = p.rules()[0];
  CHECK(r.name == "aftercare.day_7");
  CHECK(r.points.size() == 2);
  CHECK(r.points[0] == engine::kNoNode);

  Frame f;
  f.rows = 2;
  f.today = kToday;
  add_column(f, "purchase_count", Type::integer()).i64 = {3, 1};
  add_column(f, "days_since", Type::integer()).i64 = {5, 500};
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  set_string_lists(f, tags, {std::vector<std::string>{"stop"}, std::vector<std::string>{}});
  Evaluator ev(p, f);
  ev.set_batch(0, 2);
  CHECK(ev.condition(0)[0] == Truth::True);
  CHECK(ev.condition(0)[1] == Truth::False);
  CHECK(ev.truth(r.unless)[0] == Truth::True);
  CHECK(ev.truth(r.exit_when)[1] == Truth::True);
  CHECK(ev.value_at(r.once_per, 0).to_string() == "2026");
  auto pv = ev.values(r.points[1]);
  CHECK(pv.i64[0] == 30);
  CHECK(pv.valid[1] == 1);
  auto ex = ev.explain_rule(0, 0);
  REQUIRE(ex.size() == 3);
  CHECK(ex[0].definition);
  CHECK(ex[0].value.to_string(true) == "true");
}

TEST_CASE("eval: explain gives every sub-expression's value for one row") {
  Frame f;
  f.rows = 2;
  add_column(f, "purchase_count", Type::integer()).i64 = {3, 1};
  auto& ds = add_column(f, "days_since", Type::integer());
  ds.i64 = {7, 0};
  ds.valid = {1, 0};
  E cond = A("purchase_count") == I(1) && A("days_since") == I(7);
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_rule("check_in", {cond.p.get()});
  Program p = b.finish();
  Evaluator ev(p, f);
  engine::Explanation x = ev.explain(*cond, 0);
  CHECK(x.value.to_string(true) == "false");
  REQUIRE(x.children.size() == 2);
  CHECK(x.children[0].value.to_string(true) == "false");
  CHECK(x.children[0].children[0].value.to_string() == "3");
  CHECK(x.children[1].value.to_string(true) == "true");
  engine::Explanation y = ev.explain(*cond, 1);
  CHECK(y.children[1].value.to_string(true) == "unknown");
  CHECK(y.children[1].children[0].value.to_string() == "null");
  CHECK(y.value.to_string(true) == "unknown");  // true and unknown
}

TEST_CASE("eval: unsupported constructs are diagnostics, not crashes") {
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  E bad = L({I(1)}) == L({I(1)});
  b.add_expression(*bad);
  E unknown_fn = call("nope", {});
  b.add_expression(*unknown_fn);
  Program p = b.finish();
  CHECK(diags.has_errors());
  Frame f = one_row_frame();
  Evaluator ev(p, f);
  ev.set_batch(0, 1);
  CHECK(ev.value_at(0, 0).is_null());
}

// ------------------------------------------------------------------ reference interpreter
// A plain tree walk over one row, written from SPEC §4 without looking at the vector kernels.

namespace {

struct RV {
  bool null = true;
  TypeKind k = TypeKind::Null;
  int64_t i = 0;
  double d = 0;
  bool is_dec() const { return k == TypeKind::Decimal; }
  double num() const { return is_dec() ? d : static_cast<double>(i); }
};
RV rnull() { return {}; }
RV rint(int64_t v, TypeKind k = TypeKind::Int) { return {false, k, v, 0}; }
RV rdec(double v) { return std::isfinite(v) ? RV{false, TypeKind::Decimal, 0, v} : rnull(); }
RV rbool(bool v) { return {false, TypeKind::Bool, v, 0}; }

struct Ref {
  const Frame& f;
  size_t row;
  std::map<std::string, const Expr*> defs;

  RV col(const Expr& e) {
    if (auto it = defs.find(e.text); it != defs.end()) return eval(*it->second);
    const engine::Column* c = f.column(e.text);
    if (!c || !c->valid[row]) return rnull();
    if (c->type.kind == TypeKind::Decimal) return rdec(c->f64[row]);
    return rint(c->i64[row], c->type.kind);
  }
  std::vector<RV> list(const Expr& e, bool& null) {
    std::vector<RV> out;
    null = false;
    if (e.kind == Expr::Kind::List) {
      for (const auto& a : e.args) out.push_back(eval(*a));
      return out;
    }
    const engine::Column* c = f.column(e.text);
    if (!c || !c->valid[row]) {
      null = true;
      return out;
    }
    for (uint32_t j = c->list_offsets[row]; j < c->list_offsets[row + 1]; ++j) out.push_back(rint(c->list_values[j], c->type.elem));
    return out;
  }
  static bool eq(const RV& a, const RV& b) {
    if (a.is_dec() || b.is_dec()) return a.num() == b.num();
    return a.i == b.i;
  }
  int cmp(const RV& a, const RV& b) {
    if (a.k == TypeKind::String) {
      std::string_view x = f.strings->get(a.i), y = f.strings->get(b.i);
      return x < y ? -1 : x > y;
    }
    if (a.is_dec() || b.is_dec()) return a.num() < b.num() ? -1 : a.num() > b.num();
    return a.i < b.i ? -1 : a.i > b.i;
  }
  RV in(const RV& x, const std::vector<RV>& l, bool lnull) {
    if (x.null || lnull) return rnull();
    bool saw_null = false;
    for (const RV& v : l) {
      if (v.null) saw_null = true;
      else if (eq(x, v)) return rbool(true);
    }
    return saw_null ? rnull() : rbool(false);
  }

  RV eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Int: return rint(e.ival);
      case Expr::Kind::Date: return rint(e.ival, TypeKind::Date);
      case Expr::Kind::Decimal: return rdec(e.dval);
      case Expr::Kind::Bool: return rbool(e.ival);
      case Expr::Kind::String: return rint(f.strings->intern(e.text), TypeKind::String);
      case Expr::Kind::Null: return rnull();
      case Expr::Kind::Name: return col(e);
      case Expr::Kind::IsNull: {
        bool null;
        if (e.args[0]->type.kind == TypeKind::List) list(*e.args[0], null);
        else null = eval(*e.args[0]).null;
        return rbool(null != e.negated);
      }
      case Expr::Kind::Unary: {
        RV a = eval(*e.args[0]);
        if (a.null) return a;
        if (e.uop == lang::UnOp::Not) return rbool(!a.i);
        if (a.is_dec()) return rdec(-a.d);
        return a.i == INT64_MIN ? rnull() : rint(-a.i);
      }
      case Expr::Kind::Binary: return binary(e);
      case Expr::Kind::Call: return call(e);
      default: return rnull();
    }
  }
  RV binary(const Expr& e) {
    using lang::BinOp;
    if (e.bop == BinOp::In || e.bop == BinOp::NotIn) {
      bool lnull;
      auto l = list(*e.args[1], lnull);
      RV r = in(eval(*e.args[0]), l, lnull);
      if (e.bop == BinOp::NotIn && !r.null) r.i = !r.i;
      return r;
    }
    RV a = eval(*e.args[0]), b = eval(*e.args[1]);
    if (e.bop == BinOp::And) {
      if ((!a.null && !a.i) || (!b.null && !b.i)) return rbool(false);
      return a.null || b.null ? rnull() : rbool(true);
    }
    if (e.bop == BinOp::Or) {
      if ((!a.null && a.i) || (!b.null && b.i)) return rbool(true);
      return a.null || b.null ? rnull() : rbool(false);
    }
    if (a.null || b.null) return rnull();
    switch (e.bop) {
      case BinOp::Eq: return rbool(eq(a, b));
      case BinOp::Ne: return rbool(!eq(a, b));
      case BinOp::Lt: return rbool(cmp(a, b) < 0);
      case BinOp::Le: return rbool(cmp(a, b) <= 0);
      case BinOp::Gt: return rbool(cmp(a, b) > 0);
      case BinOp::Ge: return rbool(cmp(a, b) >= 0);
      default: break;
    }
    TypeKind rk = e.type.kind;
    if (e.bop == BinOp::Div) {
      if (b.num() == 0) return rnull();
      return rdec(a.num() / b.num());
    }
    if (rk == TypeKind::Decimal) {
      double x = a.num(), y = b.num();
      switch (e.bop) {
        case BinOp::Add: return rdec(x + y);
        case BinOp::Sub: return rdec(x - y);
        case BinOp::Mul: return rdec(x * y);
        default: return y == 0 ? rnull() : rdec(std::fmod(x, y));
      }
    }
    int64_t r = 0;
    bool bad = false;
    switch (e.bop) {
      case BinOp::Add: bad = __builtin_add_overflow(a.i, b.i, &r); break;
      case BinOp::Sub: bad = __builtin_sub_overflow(a.i, b.i, &r); break;
      case BinOp::Mul: bad = __builtin_mul_overflow(a.i, b.i, &r); break;
      default:
        bad = b.i == 0;
        r = bad || b.i == -1 ? 0 : a.i % b.i;
    }
    if (rk == TypeKind::Date && (r < INT32_MIN || r > INT32_MAX)) bad = true;
    return bad ? rnull() : rint(r, rk);
  }
  RV call(const Expr& e) {
    const std::string& n = e.text;
    if (n == "today") return rint(f.today, TypeKind::Date);
    if (n == "has_tag") {
      bool lnull;
      E tags = A("tags");
      auto l = list(*tags, lnull);
      return in(eval(*e.args[0]), l, lnull);
    }
    if (n == "len" && e.args[0]->type.kind == TypeKind::List) {
      bool lnull;
      auto l = list(*e.args[0], lnull);
      return lnull ? rnull() : rint(static_cast<int64_t>(l.size()));
    }
    std::vector<RV> a;
    for (const auto& x : e.args) a.push_back(eval(*x));
    bool dec = e.type.kind == TypeKind::Decimal;
    if (n == "coalesce") {
      for (RV& v : a)
        if (!v.null) return dec ? rdec(v.num()) : v;
      return rnull();
    }
    for (RV& v : a)
      if (v.null) return rnull();
    if (n == "min" || n == "max") {
      RV best = a[0];
      for (RV& v : a)
        if ((n == "min") == (cmp(v, best) < 0) && cmp(v, best) != 0) best = v;
      return dec ? rdec(best.num()) : best;
    }
    if (n == "abs") return dec ? rdec(std::fabs(a[0].d)) : a[0].i == INT64_MIN ? rnull() : rint(a[0].i < 0 ? -a[0].i : a[0].i);
    if (n == "year" || n == "month" || n == "day") {
      Ymd c = civil_from_days(static_cast<Days>(a[0].i));
      return rint(n == "year" ? c.y : n == "month" ? c.m : c.d);
    }
    if (n == "days_between") return rint(a[1].i - a[0].i);
    if (n == "len") {
      int64_t cp = 0;
      for (unsigned char ch : f.strings->get(a[0].i)) cp += (ch & 0xC0) != 0x80;
      return rint(cp);
    }
    if (n == "lower" || n == "upper") {
      std::string s(f.strings->get(a[0].i));
      for (char& ch : s) ch = n == "lower" ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                                           : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return rint(f.strings->intern(s), TypeKind::String);
    }
    return rnull();
  }
};

std::string show(const RV& v, TypeKind k, const Frame& f) {
  if (v.null) return k == TypeKind::Bool ? "unknown" : "null";
  Value x;
  switch (k) {
    case TypeKind::Bool: x.kind = Value::Kind::Bool; x.i = v.i; break;
    case TypeKind::Decimal: x.kind = Value::Kind::Decimal; x.d = v.num(); break;
    case TypeKind::String: x.kind = Value::Kind::String; x.text = std::string(f.strings->get(v.i)); break;
    case TypeKind::Date: x.kind = Value::Kind::Date; x.i = v.i; break;
    default: x.kind = Value::Kind::Int; x.i = v.i; break;
  }
  return x.to_string();
}

// Random typed expressions over the columns of random_frame().
struct Gen {
  std::mt19937_64 rng;
  int pick(int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }

  E gen(TypeKind t, int depth) {
    bool leaf = depth <= 0 || pick(4) == 0;
    switch (t) {
      case TypeKind::Bool: {
        if (leaf) {
          switch (pick(4)) {
            case 0: return A("b1", Type::boolean());
            case 1: return pick(3) == 0 ? Null() : B(pick(2));
            case 2: return pick(3) ? in(S(pick(2) ? "vip" : "new"), A("tags")) : in(gen(TypeKind::String, depth - 1), A("tags"));
            default: return call("has_tag", {S("vip")});
          }
        }
        switch (pick(10)) {
          case 0: return gen(t, depth - 1) && gen(t, depth - 1);
          case 1: return gen(t, depth - 1) || gen(t, depth - 1);
          case 2: return !gen(t, depth - 1);
          case 3: return is_null(gen(static_cast<TypeKind>(pick(2) ? TypeKind::Int : TypeKind::Decimal), depth - 1), pick(2));
          case 4: {
            std::vector<E> el;
            int k = pick(4);
            for (int j = 0; j < k; ++j) el.push_back(pick(5) == 0 ? Null() : I(pick(6)));
            if (pick(4) == 0) el.push_back(A("i2", Type::integer()));
            return pick(2) ? in(gen(TypeKind::Int, depth - 1), L(std::move(el))) : not_in(gen(TypeKind::Int, depth - 1), L(std::move(el)));
          }
          case 5: return in(gen(TypeKind::String, depth - 1), L({S("a"), S("b"), S("zz")}));
          case 6: return compare(gen(TypeKind::String, depth - 1), gen(TypeKind::String, depth - 1));
          case 7: return compare(gen(TypeKind::Date, depth - 1), gen(TypeKind::Date, depth - 1));
          default: {
            TypeKind a = pick(2) ? TypeKind::Int : TypeKind::Decimal, b = pick(2) ? TypeKind::Int : TypeKind::Decimal;
            return compare(gen(a, depth - 1), gen(b, depth - 1));
          }
        }
      }
      case TypeKind::Int: {
        if (leaf) {
          switch (pick(5)) {
            case 0: return A("i1", Type::integer());
            case 1: return A("i2", Type::integer());
            case 2: return pick(6) == 0 ? I(pick(2) ? INT64_MAX : INT64_MIN) : I(pick(7) - 2);
            case 3: return call("len", {A("tags")});
            default: return pick(4) == 0 ? Null() : I(pick(5));
          }
        }
        switch (pick(9)) {
          case 0: return gen(t, depth - 1) + gen(t, depth - 1);
          case 1: return gen(t, depth - 1) - gen(t, depth - 1);
          case 2: return gen(t, depth - 1) * gen(t, depth - 1);
          case 3: return gen(t, depth - 1) % gen(t, depth - 1);
          case 4: return call(pick(2) ? "min" : "max", {gen(t, depth - 1), gen(t, depth - 1)});
          case 5: return call("coalesce", {gen(t, depth - 1), gen(t, depth - 1)});
          case 6: return call(pick(3) == 0 ? "year" : pick(2) ? "month" : "day", {gen(TypeKind::Date, depth - 1)});
          case 7: return gen(TypeKind::Date, depth - 1) - gen(TypeKind::Date, depth - 1);
          default: return call("abs", {neg(gen(t, depth - 1))});
        }
      }
      case TypeKind::Decimal: {
        if (leaf) return pick(6) == 0 ? Null() : pick(3) ? A("d1", Type::decimal()) : D((pick(9) - 4) / 2.0);
        switch (pick(6)) {
          case 0: return gen(TypeKind::Int, depth - 1) / gen(TypeKind::Int, depth - 1);
          case 1: return gen(t, depth - 1) + gen(TypeKind::Int, depth - 1);
          case 2: return gen(t, depth - 1) * gen(t, depth - 1);
          case 3: return gen(t, depth - 1) % gen(t, depth - 1);
          case 4: return gen(t, depth - 1) / gen(t, depth - 1);
          default: return call("coalesce", {gen(t, depth - 1), gen(TypeKind::Int, depth - 1)});
        }
      }
      case TypeKind::String: {
        if (leaf) return pick(5) == 0 ? Null() : pick(3) ? A("s1", Type::string()) : S(pick(2) ? "a" : "B");
        switch (pick(3)) {
          case 0: return call("lower", {gen(t, depth - 1)});
          case 1: return call("upper", {gen(t, depth - 1)});
          default: return call("coalesce", {gen(t, depth - 1), S("zz")});
        }
      }
      default: {  // Date
        if (leaf) return pick(3) ? A("t1", Type::date()) : call("today", {});  // no null: `null - d` is untyped
        return pick(2) ? gen(t, depth - 1) + gen(TypeKind::Int, depth - 1) : gen(t, depth - 1) - gen(TypeKind::Int, depth - 1);
      }
    }
  }
  E compare(E a, E b) {
    switch (pick(6)) {
      case 0: return std::move(a) == std::move(b);
      case 1: return std::move(a) != std::move(b);
      case 2: return std::move(a) < std::move(b);
      case 3: return std::move(a) <= std::move(b);
      case 4: return std::move(a) > std::move(b);
      default: return std::move(a) >= std::move(b);
    }
  }
};

Frame random_frame(size_t rows, std::mt19937_64& rng) {
  Frame f;
  f.rows = rows;
  f.today = kToday;
  auto nul = [&] { return rng() % 7 == 0; };
  auto& i1 = add_column(f, "i1", Type::integer());
  auto& i2 = add_column(f, "i2", Type::integer());
  auto& d1 = add_column(f, "d1", Type::decimal());
  auto& s1 = add_column(f, "s1", Type::string());
  auto& t1 = add_column(f, "t1", Type::date());
  auto& b1 = add_column(f, "b1", Type::boolean());
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  const char* words[] = {"a", "b", "A", "Zed", "日本", "zz"};
  std::vector<std::optional<std::vector<std::string>>> lists;
  for (size_t r = 0; r < rows; ++r) {
    i1.i64[r] = static_cast<int64_t>(rng() % 9) - 3;
    if (rng() % 50 == 0) i1.i64[r] = rng() % 2 ? INT64_MAX : INT64_MIN;
    i2.i64[r] = static_cast<int64_t>(rng() % 5);
    d1.f64[r] = (static_cast<double>(rng() % 21) - 10) / 4.0;
    s1.i64[r] = f.strings->intern(words[rng() % 6]);
    t1.i64[r] = kToday - static_cast<int64_t>(rng() % 800);
    b1.i64[r] = static_cast<int64_t>(rng() % 2);
    i1.valid[r] = !nul(), i2.valid[r] = !nul(), d1.valid[r] = !nul(), s1.valid[r] = !nul();
    t1.valid[r] = !nul(), b1.valid[r] = !nul();
    if (nul()) {
      lists.push_back(std::nullopt);
    } else {
      std::vector<std::string> l;
      if (rng() % 3 == 0) l.push_back("vip");
      if (rng() % 3 == 0) l.push_back("new");
      lists.push_back(l);
    }
  }
  set_string_lists(f, tags, lists);
  return f;
}

// Compiles `exprs` into one program and checks every value of every row against Ref.
void check_against_reference(const std::vector<E>& exprs, const Frame& f) {
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  std::vector<NodeId> nodes;
  for (const E& e : exprs) {
    size_t before = diags.items().size();
    nodes.push_back(b.add_expression(*e));
    if (diags.items().size() != before) MESSAGE(lang::dump_expr(e.p.get()));  // which one failed
  }
  Program p = b.finish();
  INFO(lang::render_all(diags));
  REQUIRE_FALSE(diags.has_errors());
  Evaluator ev(p, f);
  for (size_t begin = 0; begin < f.rows; begin += engine::kBatchRows) {
    ev.set_batch(begin, std::min(f.rows, begin + engine::kBatchRows));
    for (size_t k = 0; k < exprs.size(); ++k) {
      TypeKind t = exprs[k].p->type.kind;
      for (size_t i = 0; i < ev.batch_size(); ++i) {
        Ref ref{f, begin + i, {}};
        std::string want = show(ref.eval(*exprs[k]), t, f);
        std::string got = ev.value_at(nodes[k], i).to_string(t == TypeKind::Bool);
        if (want != got) {
          INFO("expression " << k << " row " << begin + i << "\n" << p.dump());
          REQUIRE(got == want);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("eval: randomized expressions agree with the reference interpreter") {
  std::mt19937_64 rng(20261123);
  Frame f = random_frame(1500, rng);
  Gen g{std::mt19937_64(7)};
  const TypeKind kinds[] = {TypeKind::Bool, TypeKind::Int, TypeKind::Decimal, TypeKind::String, TypeKind::Date};
  for (int round = 0; round < 40; ++round) {
    std::vector<E> exprs;
    for (int k = 0; k < 10; ++k) exprs.push_back(g.gen(kinds[g.pick(5)], 4));
    check_against_reference(exprs, f);
  }
}

TEST_CASE("eval: batch boundaries give the same results as the reference") {
  constexpr size_t K = engine::kBatchRows;
  for (size_t rows : {size_t{0}, size_t{1}, size_t{1023}, size_t{1024}, size_t{1025}, K - 1, K, K + 1, 3 * K - 5}) {
    CAPTURE(rows);
    std::mt19937_64 rng(rows + 1);
    Frame f = random_frame(rows, rng);
    Gen g{std::mt19937_64(rows * 3 + 1)};
    std::vector<E> exprs;
    exprs.push_back(A("i1", Type::integer()) == I(1) && A("d1", Type::decimal()) >= I(0));
    exprs.push_back(in(S("vip"), A("tags")) || A("b1", Type::boolean()));
    exprs.push_back(A("i1", Type::integer()) + A("i2", Type::integer()));
    for (int k = 0; k < 6; ++k) exprs.push_back(g.gen(TypeKind::Bool, 3));
    check_against_reference(exprs, f);
    // Truth arrays cover the whole batch.
    lang::Diagnostics diags;
    ProgramBuilder b(diags);
    b.add_rule("r", {exprs[0].p.get()});
    Program p = b.finish();
    Evaluator ev(p, f);
    size_t trues = 0, expect = 0;
    for (size_t begin = 0; begin < rows; begin += engine::kBatchRows) {
      ev.set_batch(begin, std::min(rows, begin + engine::kBatchRows));
      const Truth* t = ev.condition(0);
      for (size_t i = 0; i < ev.batch_size(); ++i) trues += t[i] == Truth::True;
    }
    for (size_t r = 0; r < rows; ++r) {
      const auto& i1 = f.columns["i1"];
      const auto& d1 = f.columns["d1"];
      expect += i1.valid[r] && i1.i64[r] == 1 && d1.valid[r] && d1.f64[r] >= 0;
    }
    CHECK(trues == expect);
  }
}

// ------------------------------------------------------------------ from .crm text

#include "lang/parser.hpp"

namespace {

lang::CheckedProgram check_text(const std::string& text, lang::Diagnostics& diags) {
  auto src = std::make_shared<const lang::SourceFile>("e2e.crm", text);
  std::vector<lang::Module> modules;
  modules.push_back(lang::parse(src, diags));
  return lang::check(std::move(modules), {}, diags);
}

}  // namespace

TEST_CASE("eval: a checked .crm program compiles and evaluates end to end") {
  lang::Diagnostics diags;
  lang::CheckedProgram cp = check_text(R"crm(
segment vip = total_spent >= 100_000 or purchase_count >= 10
let aov = total_spent / purchase_count
message card via dm cost 120
message tips via email
rule birthday: when vip and days_until_birthday == 7 then send card once per year(today)
rule loyalty: when aov > 50.0 and subscription.months in [3, 6, 12] then grant points purchase_count * 10
journey aftercare on first_purchase {
  day 7: send tips unless has_tag("stop")
  exit when purchase_count >= 2
}
)crm", diags);
  INFO(lang::render_all(diags));
  REQUIRE_FALSE(diags.has_errors());
  Program p = engine::compile_program(cp, diags);
  REQUIRE_FALSE(diags.has_errors());
  REQUIRE(p.rules().size() == 3);
  CHECK(p.rules()[2].name == "aftercare.day_7");

  Frame f;
  f.rows = 3;
  f.today = kToday;
  add_column(f, "purchase_count", Type::integer()).i64 = {12, 1, 0};
  add_column(f, "total_spent", Type::decimal()).f64 = {1200.0, 100.0, 0.0};
  auto& bd = add_column(f, "days_until_birthday", Type::integer());
  bd.i64 = {7, 7, 7};
  auto& sm = add_column(f, "subscription.months", Type::integer());
  sm.i64 = {6, 3, 3};
  sm.valid = {1, 1, 0};
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  set_string_lists(f, tags, {std::vector<std::string>{}, std::vector<std::string>{"stop"}, std::nullopt});
  Evaluator ev(p, f);
  ev.set_batch(0, 3);
  const Truth* birthday = ev.condition(0);
  CHECK(birthday[0] == Truth::True);
  CHECK(birthday[1] == Truth::False);
  CHECK(ev.value_at(p.rules()[0].once_per, 0).to_string() == "2026");
  const Truth* loyalty = ev.condition(1);
  CHECK(loyalty[0] == Truth::True);     // aov 100.0
  CHECK(loyalty[1] == Truth::True);     // aov 100.0
  CHECK(loyalty[2] == Truth::Unknown);  // aov null (0 / 0) and months null
  CHECK(ev.value_at(p.rules()[1].points[0], 0).to_string() == "120");
  const auto& step = p.rules()[2];
  CHECK(ev.condition(2)[0] == Truth::True);
  CHECK(ev.truth(step.unless)[1] == Truth::True);
  CHECK(ev.truth(step.unless)[2] == Truth::Unknown);
  CHECK(ev.truth(step.exit_when)[0] == Truth::True);
  auto ex = ev.explain_rule(0, 1);
  REQUIRE(ex.size() == 1);
  CHECK(ex[0].value.to_string(true) == "false");
  REQUIRE(ex[0].children.size() == 2);
  CHECK(ex[0].children[0].definition);  // vip -> its expression
  CHECK(ex[0].children[0].value.to_string(true) == "false");
  CHECK(ex[0].children[1].value.to_string(true) == "true");
}

TEST_CASE("eval: run-time typed payload fields are read as the type their context wants") {
  Frame f;
  f.rows = 3;
  auto& amount = add_column(f, "event.amount", Type::decimal());
  amount.f64 = {150.5, 80.0, 0};
  amount.valid = {1, 1, 0};
  auto& reason = add_column(f, "event.reason", Type::string());
  reason.i64 = {f.strings->intern("price"), f.strings->intern("other"), 0};
  reason.valid = {1, 1, 0};
  auto& count = add_column(f, "event.count", Type::integer());
  count.i64 = {3, 4, 5};
  CHECK(column_of(A("event.amount", Type::any()) > I(100), f) == std::vector<std::string>{"true", "false", "unknown"});
  CHECK(column_of(A("event.reason", Type::any()) == S("price"), f) == std::vector<std::string>{"true", "false", "unknown"});
  CHECK(column_of(A("event.count", Type::any()) >= I(4), f) == std::vector<std::string>{"false", "true", "true"});
  // A field of another type than the context wants is null, never a misread id.
  CHECK(column_of(A("event.reason", Type::any()) > I(1), f) == std::vector<std::string>{"unknown", "unknown", "unknown"});
  CHECK(column_of(A("event.missing", Type::any()) == S("x"), f) == std::vector<std::string>{"unknown", "unknown", "unknown"});
}

TEST_CASE("eval: one Program is shared by Evaluators on several threads") {
  std::mt19937_64 rng(99);
  Frame f = random_frame(5000, rng);
  E cond = (A("i1", Type::integer()) >= I(0) && in(S("vip"), A("tags"))) || A("d1", Type::decimal()) < I(-1);
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_rule("r", {cond.p.get()});
  Program p = b.finish();
  REQUIRE_FALSE(p.interns_strings());
  auto count = [&](size_t& out) {
    Evaluator ev(p, f);
    size_t k = 0;
    for (size_t begin = 0; begin < f.rows; begin += engine::kBatchRows) {
      ev.set_batch(begin, std::min(f.rows, begin + engine::kBatchRows));
      const Truth* t = ev.condition(0);
      for (size_t i = 0; i < ev.batch_size(); ++i) k += t[i] == Truth::True;
    }
    out = k;
  };
  size_t first = 0;
  count(first);  // binds once before the threads start (interns the constants)
  std::vector<size_t> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) threads.emplace_back(count, std::ref(results[t]));
  for (auto& t : threads) t.join();
  CHECK(first > 0);
  for (size_t r : results) CHECK(r == first);
}

TEST_CASE("eval: every expression form the checker accepts compiles without diagnostics") {
  lang::Diagnostics diags;
  lang::CheckedProgram cp = check_text(R"crm(
let bought = purchased
let recent = last_purchase_date + 30 >= today
message m via email
rule a: when purchase_count in [] or not (purchase_count in [1, null]) then send m
rule b: when coalesce(birthday, today) <= today and len(purchased) > 2 and len(bought) < 9 then send m
rule c: when upper(subscription.status) == "ACTIVE" and lower(name) < "m" and len(name) > 0 then send m
rule d: when -days_since < -5 and abs(days_since - 10) <= 3 and days_between(last_purchase_date, today) == 7 then send m
rule e: when recent and has_tag("vip") and tags is not null and "x" not in tags then send m once per last_purchase_date
rule f: when min(total_spent, 10) > max(1, 3) % 2 + 0.5 and avg_order_value / 2 > 1 then send m
rule g: on cancel when event.reason == "price" and event.amount > 100 then send m
rule h: on purchase when order.total >= 5000 and "SKU1" in order.skus then grant points order.total / 100
rule i: when month(today) == 12 and day(today) == 24 and year(today) > 2000 then send m once per year(today)
rule j: when "SKU9" in bought and satisfaction is null and email_opt_in == true then send m
)crm", diags);
  INFO(lang::render_all(diags));
  REQUIRE_FALSE(diags.has_errors());
  Program p = engine::compile_program(cp, diags);
  CHECK_FALSE(diags.has_errors());
  CHECK(p.rules().size() == 10);
  // Evaluates over an empty-ish frame (missing columns are null) without trouble.
  Frame f = one_row_frame();
  Evaluator ev(p, f);
  ev.set_batch(0, 1);
  for (size_t r = 0; r < p.rules().size(); ++r) CHECK(ev.condition(r)[0] != Truth::True);
  for (size_t r = 0; r < p.rules().size(); ++r) CHECK_FALSE(ev.explain_rule(r, 0).empty());
}

TEST_CASE("eval: an Evaluator rebinds to other frames (one customer, then many)") {
  E cond = A("purchase_count") >= I(2) && A("name") == S("ann") && call("today", {}) > Dt(kToday - 1);
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  b.add_rule("r", {cond.p.get()});
  Program p = b.finish();
  auto frame_of = [](size_t rows, Days today) {
    Frame f;
    f.rows = rows;
    f.today = today;
    auto& pc = add_column(f, "purchase_count", Type::integer());
    auto& nm = add_column(f, "name", Type::string());
    for (size_t r = 0; r < rows; ++r) {
      pc.i64[r] = static_cast<int64_t>(r % 4);
      nm.i64[r] = f.strings->intern(r % 2 ? "ann" : "bob");
    }
    return f;
  };
  Frame one = frame_of(1, kToday), big = frame_of(3000, kToday), old = frame_of(8, kToday - 5);
  one.columns["purchase_count"].i64[0] = 5;
  one.columns["name"].i64[0] = one.strings->intern("ann");
  Evaluator ev(p, one);
  ev.set_batch(0, 1);
  CHECK(ev.condition(0)[0] == Truth::True);
  CHECK_THROWS(ev.set_batch(0, 2));
  ev.bind(big);  // grows the registers
  size_t trues = 0;
  for (size_t begin = 0; begin < big.rows; begin += engine::kBatchRows) {
    ev.set_batch(begin, std::min(big.rows, begin + engine::kBatchRows));
    const Truth* t = ev.condition(0);
    for (size_t i = 0; i < ev.batch_size(); ++i) trues += t[i] == Truth::True;
  }
  CHECK(trues == 750);  // rows with r % 4 == 3 (>= 2 and odd)
  ev.bind(old);  // today is five days earlier: the condition fails everywhere
  ev.set_batch(0, 8);
  for (size_t i = 0; i < 8; ++i) CHECK(ev.condition(0)[i] == Truth::False);
}

TEST_CASE("eval: modulo by a constant matches the general modulo at the edges") {
  Frame f;
  const std::vector<int64_t> xs = {0, 1, -1, 364, 365, 366, -365, -366, 730, (int64_t{1} << 52) - 1, int64_t{1} << 52,
                                   -(int64_t{1} << 52), INT64_MAX, INT64_MIN, 123456789012345, -987654321098765};
  f.rows = xs.size();
  auto& c = add_column(f, "x", Type::integer());
  auto& d = add_column(f, "d", Type::integer());
  c.i64 = xs;
  for (int64_t m : {int64_t{365}, int64_t{-7}, int64_t{2}, int64_t{1}, INT64_MAX, INT64_MIN}) {
    std::fill(d.i64.begin(), d.i64.end(), m);
    CAPTURE(m);
    CHECK(column_of(A("x", Type::integer()) % I(m), f) == column_of(A("x", Type::integer()) % A("d", Type::integer()), f));
    for (size_t r = 0; r < xs.size(); ++r) {
      int64_t want = m == -1 ? 0 : xs[r] % m;
      CHECK(column_of(A("x", Type::integer()) % I(m), f)[r] == std::to_string(want));
    }
  }
}
