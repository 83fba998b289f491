// Unit tests of the evaluator's fast paths (engine/eval): each one is compared, byte for byte
// (values and validity, null rows included), against the general instructions it stands for,
// over frames with nulls, edge values and several batches.
#include <doctest/doctest.h>

#include <optional>
#include <random>

#include "engine/eval/program.hpp"
#include "eval_exprs.hpp"

using namespace crm;
using namespace crm::test;
using engine::Evaluator;
using engine::Frame;
using engine::NodeId;
using engine::Program;
using engine::ProgramBuilder;

namespace {

constexpr Days kToday = days_from_civil(2026, 11, 23);

// A frame of `rows` customers: bool p, int n, tags and purchased lists (some null, some empty),
// drawn from `seed`. Shares of nulls and of matches vary with the seed.
Frame random_frame(size_t rows, uint64_t seed) {
  Frame f;
  f.rows = rows;
  f.today = kToday;
  std::mt19937_64 rng(seed);
  int null_pct = static_cast<int>(seed % 4) * 15;  // 0, 15, 30, 45 % nulls
  auto pct = [&](int p) { return static_cast<int>(rng() % 100) < p; };
  auto& p = add_column(f, "p", Type::boolean());
  auto& n = add_column(f, "n", Type::integer());
  auto& tags = add_column(f, "tags", Type::list(TypeKind::String));
  auto& pur = add_column(f, "purchased", Type::list(TypeKind::String));
  const char* words[] = {"vip", "welcomed", "b2b", "SKU1", "SKU2"};
  std::vector<std::optional<std::vector<std::string>>> t(rows), u(rows);
  for (size_t r = 0; r < rows; ++r) {
    p.i64[r] = pct(50), p.valid[r] = !pct(null_pct);
    n.i64[r] = static_cast<int64_t>(rng() % 40) - 5, n.valid[r] = !pct(null_pct);
    for (auto* l : {&t[r], &u[r]}) {
      if (pct(null_pct)) continue;
      l->emplace();
      for (size_t k = rng() % 6; k > 0; --k) (*l)->push_back(words[rng() % 5]);
    }
  }
  set_string_lists(f, tags, t);
  set_string_lists(f, pur, u);
  return f;
}

struct Bytes {
  std::vector<uint8_t> b8, valid;
};

Bytes bytes_of(const Evaluator::Values& v, size_t n) {
  return {std::vector<uint8_t>(v.b8, v.b8 + n), std::vector<uint8_t>(v.valid, v.valid + n)};
}

// Compiles `x and y`, checks that the And short-circuits its membership operand (`lazy`), and
// compares its bytes in every batch with the three-valued and of the operands, each computed
// by the general instructions.
void check_and(const E& x, const E& y, const Frame& f, bool expect_lazy = true) {
  E both = x && y;
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  NodeId nx = b.add_expression(*x), ny = b.add_expression(*y), nb = b.add_expression(*both);
  Program p = b.finish();
  REQUIRE_FALSE(diags.has_errors());
  CHECK((p.nodes()[nb].lazy != engine::kNoNode) == expect_lazy);
  Evaluator ev(p, f);
  for (size_t begin = 0; begin < f.rows; begin += engine::kBatchRows) {
    ev.set_batch(begin, std::min(f.rows, begin + engine::kBatchRows));
    size_t n = ev.batch_size();
    Bytes got = bytes_of(ev.values(nb), n);
    Bytes a = bytes_of(ev.values(nx), n), c = bytes_of(ev.values(ny), n);
    for (size_t i = 0; i < n; ++i) {
      uint8_t ta = a.b8[i] & a.valid[i], tb = c.b8[i] & c.valid[i];
      uint8_t fa = (a.b8[i] ^ 1) & a.valid[i], fb = (c.b8[i] ^ 1) & c.valid[i];
      CAPTURE(begin + i);
      REQUIRE(got.b8[i] == (ta & tb));
      REQUIRE(got.valid[i] == ((ta & tb) | fa | fb));
    }
  }
}

}  // namespace

TEST_CASE("eval fast path: and with a membership test equals the general and, nulls included") {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (size_t rows : {size_t{1}, size_t{7}, size_t{64}, size_t{65}, size_t{2048}, size_t{5000}}) {
      CAPTURE(seed);
      CAPTURE(rows);
      Frame f = random_frame(rows, seed);
      auto p = [] { return A("p", Type::boolean()); };
      auto n = [] { return A("n", Type::integer()); };
      check_and(p(), in(S("vip"), A("tags", Type::list(TypeKind::String))), f);
      check_and(in(S("welcomed"), A("tags", Type::list(TypeKind::String))), n() == I(3), f);
      check_and(not_in(S("welcomed"), A("tags", Type::list(TypeKind::String))), n() <= I(3), f);
      check_and(call("has_tag", {S("b2b")}), p(), f);
      check_and(!call("has_tag", {S("b2b")}), n() >= I(0), f);
      check_and(in(S("SKU1"), A("purchased", Type::list(TypeKind::String))), n() == I(20), f);
      // Both operands are memberships: one is short-circuited, the other computed.
      check_and(in(S("SKU1"), A("purchased", Type::list(TypeKind::String))),
                not_in(S("vip"), A("tags", Type::list(TypeKind::String))), f);
      // A needle no row holds, and a list column the frame lacks (all unknown).
      check_and(n() > I(2), in(S("never-interned"), A("tags", Type::list(TypeKind::String))), f);
      check_and(p(), in(S("SKU1"), A("categories", Type::list(TypeKind::String))), f);
      check_and(p(), not_in(S("SKU1"), A("categories", Type::list(TypeKind::String))), f);
      // Constant operands on the other side.
      check_and(B(true), in(S("vip"), A("tags", Type::list(TypeKind::String))), f);
      check_and(Null(), in(S("vip"), A("tags", Type::list(TypeKind::String))), f);
    }
  }
}

TEST_CASE("eval fast path: a membership with a null or per-row needle is not short-circuited") {
  Frame f = random_frame(300, 2);
  auto& s = add_column(f, "s", Type::string());
  for (size_t r = 0; r < f.rows; ++r) s.i64[r] = f.strings->intern(r % 3 ? "vip" : "b2b"), s.valid[r] = r % 7 != 0;
  check_and(A("p", Type::boolean()), in(Null(), A("tags", Type::list(TypeKind::String))), f, false);
  check_and(A("p", Type::boolean()), in(A("s", Type::string()), A("tags", Type::list(TypeKind::String))), f, false);
}

TEST_CASE("eval fast path: a short-circuited membership still explains and reads tags written between rules") {
  Frame f = random_frame(100, 3);
  E member = in(S("vip"), A("tags", Type::list(TypeKind::String)));
  E rule = A("n", Type::integer()) >= I(0) && member;
  lang::Diagnostics diags;
  ProgramBuilder b(diags);
  size_t r0 = b.add_rule("r0", {rule.p.get()});
  Program p = b.finish();
  REQUIRE_FALSE(diags.has_errors());
  Evaluator ev(p, f);
  // The membership on its own (explain, value_at) is the general instruction.
  for (size_t r = 0; r < f.rows; ++r) {
    engine::Value l = engine::column_value(f, f.columns.at("tags"), r);
    std::string want = l.is_null() ? "unknown" : "false";
    for (const auto& v : l.list)
      if (v.text == "vip") want = "true";
    engine::Explanation x = ev.explain(*rule, r);
    REQUIRE(x.children.size() == 2);
    CHECK(x.children[1].value.to_string(true) == want);
  }
  ev.set_batch(0, f.rows);
  engine::Column& tags = f.columns.at("tags");
  int64_t vip = f.strings->intern("vip");
  // Every row gets "vip": the condition is then TRUE wherever n >= 0.
  std::vector<uint32_t> off{0};
  std::vector<int64_t> vals;
  for (size_t r = 0; r < f.rows; ++r) {
    vals.push_back(vip);
    off.push_back(static_cast<uint32_t>(vals.size()));
    tags.valid[r] = 1;
  }
  tags.list_offsets = off;
  tags.list_values = vals;
  const engine::Truth* t = ev.condition(r0);
  const engine::Column& n = f.columns.at("n");
  for (size_t r = 0; r < f.rows; ++r) {
    CAPTURE(r);
    engine::Truth want = !n.valid[r] ? engine::Truth::Unknown : n.i64[r] >= 0 ? engine::Truth::True : engine::Truth::False;
    CHECK(t[r] == want);
  }
}

TEST_CASE("eval fast path: comparisons on a narrowed int32 load equal the int64 ones, at the edges") {
  // Values at the edges of int32, and batches where some value does not fit (the general path).
  const std::vector<int64_t> edges = {0, 1, -1, 7, INT32_MAX, INT32_MIN, int64_t{INT32_MAX} + 1, int64_t{INT32_MIN} - 1,
                                      INT64_MAX, INT64_MIN, 4294967296 + 7, -4294967296 + 7};
  std::mt19937_64 rng(7);
  for (bool wide : {false, true}) {
    Frame f;
    f.rows = 5000;
    f.today = kToday;
    auto& x = add_column(f, "x", Type::integer());
    for (size_t r = 0; r < f.rows; ++r) {
      // Without `wide`, only the rows of the second batch get values past int32.
      bool may_be_wide = wide || (r >= engine::kBatchRows && r < 2 * engine::kBatchRows);
      int64_t v = edges[rng() % edges.size()];
      if (!may_be_wide && (v > INT32_MAX || v < INT32_MIN)) v = static_cast<int32_t>(v);
      x.i64[r] = v;
      x.valid[r] = rng() % 5 != 0;  // a null row keeps its value: it must not change the answers
    }
    auto X = [] { return A("x", Type::integer()); };
    std::vector<E> cmps = {X() == I(7), X() != I(7), X() < I(INT32_MAX), X() <= I(INT32_MIN), X() > I(-1),
                           X() >= I(INT32_MIN), X() == I(INT32_MAX), X() == I(int64_t{INT32_MAX} + 1),
                           X() > I(int64_t{INT32_MIN} - 1), X() < I(INT64_MAX)};
    lang::Diagnostics diags;
    ProgramBuilder b(diags);
    std::vector<NodeId> ids;
    for (const E& e : cmps) ids.push_back(b.add_expression(*e));
    Program p = b.finish();
    REQUIRE_FALSE(diags.has_errors());
    size_t narrow = 0;
    for (const auto& n : p.nodes()) narrow += n.narrow;
    CHECK(narrow == 1);  // the load of x
    Evaluator ev(p, f);
    for (size_t begin = 0; begin < f.rows; begin += engine::kBatchRows) {
      ev.set_batch(begin, std::min(f.rows, begin + engine::kBatchRows));
      for (size_t k = 0; k < cmps.size(); ++k) {
        const auto& c = p.nodes()[ids[k]];
        Evaluator::Values v = ev.values(ids[k]);
        int64_t k64 = p.nodes()[c.b].i64;
        for (size_t i = 0; i < ev.batch_size(); ++i) {
          int64_t a = x.i64[begin + i];
          bool want = c.op == engine::Op::Eq   ? a == k64
                      : c.op == engine::Op::Ne ? a != k64
                      : c.op == engine::Op::Lt ? a < k64
                      : c.op == engine::Op::Le ? a <= k64
                      : c.op == engine::Op::Gt ? a > k64
                                               : a >= k64;
          CAPTURE(k);
          CAPTURE(begin + i);
          REQUIRE(v.b8[i] == static_cast<uint8_t>(want));
          REQUIRE(v.valid[i] == x.valid[begin + i]);
        }
      }
    }
  }
}
