// The vector interpreter: runs a compiled Program's instructions over a batch of Frame rows,
// each instruction at most once per batch, and explains single rows (crm explain).
// Kernels are in eval_ops.hpp; the compiler is compiler.cpp.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <functional>
#include <stdexcept>

#include <fmt/core.h>

#include "lang/int_range.hpp"
#include "engine/eval/eval_ops.hpp"
#include "engine/eval/program.hpp"

#if defined(__GNUC__)
#define CRM_KERNEL_LAMBDA __attribute__((always_inline))
#else
#define CRM_KERNEL_LAMBDA
#endif

namespace crm::engine {

using lang::TypeKind;

const char* op_name(Op op) {
  switch (op) {
#define CRM_X(name, doc) \
  case Op::name: return #name;
    CRM_EVAL_OPCODES(CRM_X)
#undef CRM_X
  }
  return "?";
}

NodeId Program::node_of(const lang::Expr* e) const {
  auto it = expr_nodes_.find(e);
  return it == expr_nodes_.end() ? kNoNode : it->second;
}

const CompiledRule* Program::find_rule(const std::string& name) const {
  for (const auto& r : rules_)
    if (r.name == name) return &r;
  return nullptr;
}

std::string Program::dump() const {
  std::string out;
  auto put = [&](std::string_view x) { out.append(x); };
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    const Node& n = nodes_[id];
    put(fmt::format("%{} = {}.{}", id, op_name(n.op), lang::kind_name(n.kind)));
    if (n.a != kNoNode) put(fmt::format(" %{}", n.a));
    if (n.b != kNoNode) put(fmt::format(" %{}", n.b));
    for (NodeId x : n.args) put(fmt::format(" %{}", x));
    if (n.column >= 0) put(fmt::format(" [{}]", columns_[static_cast<size_t>(n.column)]));
    if (n.op == Op::Const) {
      if (n.null_const) put(" null");
      else if (n.today) put(" today");
      else if (n.string_index >= 0) put(fmt::format(" \"{}\"", strings_[static_cast<size_t>(n.string_index)]));
      else if (n.rep == Rep::F64) put(fmt::format(" {}", n.f64));
      else put(fmt::format(" {}", n.i64));
    }
    if (n.op == Op::InConst)
      put(fmt::format(" {{{} values{}}}", n.list_i64.size() + n.list_f64.size() + n.list_strings.size(),
                      n.list_has_null ? ", null" : ""));
    if (n.tags_dependent) put(" (reads tags)");
    put("\n");
  }
  for (const auto& r : rules_) put(fmt::format("rule {}: %{}\n", r.name, r.condition));
  return out;
}

// ------------------------------------------------------------------ values

namespace {

std::string decimal_text(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

Value scalar(TypeKind kind, int64_t i, double d, const StringPool& pool) {
  Value v;
  switch (kind) {
    case TypeKind::Bool: v.kind = Value::Kind::Bool; v.i = i != 0; break;
    case TypeKind::Decimal: v.kind = Value::Kind::Decimal; v.d = d; break;
    case TypeKind::Date: v.kind = Value::Kind::Date; v.i = i; break;
    case TypeKind::String:
      v.kind = Value::Kind::String;
      v.i = i;
      if (i >= 0 && static_cast<size_t>(i) < pool.size()) v.text = std::string(pool.get(i));
      break;
    default: v.kind = Value::Kind::Int; v.i = i; break;
  }
  return v;
}

}  // namespace

std::string Value::to_string(bool as_truth) const {
  switch (kind) {
    case Kind::Null: return as_truth ? "unknown" : "null";
    case Kind::Bool: return i ? "true" : "false";
    case Kind::Int: return std::to_string(i);
    case Kind::Decimal: return decimal_text(d);
    case Kind::String: return quoted(text);
    case Kind::Date: return format_date(static_cast<Days>(i));
    case Kind::List: {
      std::string s = "[";
      for (size_t k = 0; k < list.size(); ++k) s += (k ? ", " : "") + list[k].to_string();
      return s + "]";
    }
  }
  return "?";
}

Value column_value(const Frame& frame, const engine::Column& col, size_t row) {
  if (row >= frame.rows || (!col.valid.empty() && !col.valid[row])) return {};
  if (col.type.kind == TypeKind::List) {
    Value v;
    v.kind = Value::Kind::List;
    if (row + 1 < col.list_offsets.size())
      for (uint32_t j = col.list_offsets[row]; j < col.list_offsets[row + 1]; ++j)
        v.list.push_back(scalar(col.type.elem, col.list_values[j], 0, *frame.strings));
    return v;
  }
  int64_t i = row < col.i64.size() ? col.i64[row] : 0;
  double d = row < col.f64.size() ? col.f64[row] : 0;
  return scalar(col.type.kind, i, d, *frame.strings);
}

// ------------------------------------------------------------------ registers

namespace {
struct ConstantRows {
  uint8_t ones[kBatchRows];
  uint8_t zeros8[kBatchRows] = {};
  int64_t zeros64[kBatchRows] = {};
  double zerosf[kBatchRows] = {};
  ConstantRows() { std::fill(std::begin(ones), std::end(ones), uint8_t{1}); }
};
}  // namespace

struct Evaluator::Regs {
  // Per node: the current view (into a buffer below, a column, or a constant) and buffers.
  std::vector<Values> view;
  // Buffers of the nodes that compute values, all in one allocation (`arena`): a one-customer
  // frame needs a few bytes per node, and one allocation instead of hundreds keeps binding cheap.
  std::vector<int64_t*> i64;
  std::vector<double*> f64;
  std::vector<uint8_t*> b8;
  std::vector<uint8_t*> valid;
  std::vector<int32_t*> i32;     // Node::narrow loads: the batch as int32
  std::vector<uint8_t> fits32;   // ... when every value of the batch fits (else 0: use i64)
  std::unique_ptr<std::byte[]> arena;
  std::vector<uint64_t> stamp;
  std::vector<std::vector<int64_t>> bound_list;  // InConst over strings: the ids
  std::vector<const engine::Column*> columns;    // per program column; null when the frame lacks it
  std::vector<int64_t> string_ids;               // per program string constant
  std::unordered_map<int64_t, int64_t> lower_cache, upper_cache;
  std::vector<uint32_t> prefix;  // InColumn: running match counts over a batch's list elements
  std::vector<NodeId> today_consts;  // Const nodes holding the frame's date
  // Constant rows (all valid, all zero) shared by every Evaluator: filling them per Evaluator
  // cost more than evaluating a one-customer frame.
  const uint8_t* ones = nullptr;
  const uint8_t* zeros8 = nullptr;
  const int64_t* zeros64 = nullptr;
  const double* zerosf = nullptr;
  uint8_t truth[kBatchRows];
  uint64_t serial = 1;
  uint64_t batch_stamp = 1;
  uint64_t call_stamp = 0;  // the serial of the last condition/truth/values call
  uint64_t executed = 0;
};

Evaluator::Evaluator(const Program& program, const Frame& frame)
    : program_(program), frame_(&frame), regs_(std::make_unique<Regs>()) {
  Regs& r = *regs_;
  static const ConstantRows constants;
  r.ones = constants.ones;
  r.zeros8 = constants.zeros8;
  r.zeros64 = constants.zeros64;
  r.zerosf = constants.zerosf;
  size_t count = program.nodes_.size();
  r.view.resize(count);
  r.i64.resize(count);
  r.f64.resize(count);
  r.b8.resize(count);
  r.valid.resize(count);
  r.i32.resize(count);
  r.fits32.assign(count, 0);
  r.stamp.assign(count, 0);
  r.bound_list.resize(count);
  for (NodeId id = 0; id < count; ++id)
    if (program.nodes_[id].op == Op::Const && program.nodes_[id].today && !program.nodes_[id].null_const)
      r.today_consts.push_back(id);
  bind(frame);
}

void Evaluator::rebind_contents() {
  Regs& r = *regs_;
  const Frame& frame = *frame_;
  if (frame.strings.get() != bound_pool_ || std::clamp<size_t>(frame.rows, 1, kBatchRows) > capacity_) {
    bind(frame);
    return;
  }
  begin_ = n_ = 0;
  r.batch_stamp = ++r.serial;  // nothing computed for the old contents is reused
  for (NodeId id : r.today_consts) {
    const Node& n = program_.nodes_[id];
    if (n.rep == Rep::I64) std::fill_n(r.i64[id], capacity_, static_cast<int64_t>(frame.today));
    if (n.rep == Rep::B8) std::fill_n(r.b8[id], capacity_, static_cast<uint8_t>(frame.today != 0));
  }
}

void Evaluator::bind(const Frame& frame) {
  Regs& r = *regs_;
  const Program& program = program_;
  frame_ = &frame;
  bound_pool_ = frame.strings.get();
  begin_ = n_ = 0;
  r.batch_stamp = ++r.serial;  // nothing computed for the old frame is reused
  r.lower_cache.clear();
  r.upper_cache.clear();
  r.columns.clear();
  for (const auto& name : program.columns_) r.columns.push_back(frame.column(name));
  r.string_ids.clear();
  for (const auto& s : program.strings_) r.string_ids.push_back(frame.strings->intern(s));

  // Registers hold min(rows, kBatchRows) values: a one-customer frame needs one slot each.
  size_t cap = std::clamp<size_t>(frame.rows, 1, kBatchRows);
  bool grow = cap > capacity_;
  if (grow) capacity_ = cap;
  auto buffered = [](const Node& n) { return n.op != Op::LoadI64 && n.op != Op::LoadF64 && n.op != Op::IsNotNull; };
  if (grow) {
    auto round16 = [](size_t bytes) { return (bytes + 15) / 16 * 16; };
    size_t bytes = 0;
    for (const Node& n : program.nodes_) {
      if (buffered(n)) bytes += round16(capacity_ * (n.rep == Rep::B8 ? 1 : 8)) + round16(capacity_);
      if (n.narrow) bytes += round16(capacity_ * 4);
    }
    r.arena.reset(new std::byte[bytes]());
    std::byte* p = r.arena.get();
    for (NodeId id = 0; id < program.nodes_.size(); ++id) {
      const Node& n = program.nodes_[id];
      r.i64[id] = nullptr, r.f64[id] = nullptr, r.b8[id] = nullptr, r.valid[id] = nullptr, r.i32[id] = nullptr;
      if (n.narrow) {
        r.i32[id] = reinterpret_cast<int32_t*>(p);
        p += round16(capacity_ * 4);
      }
      if (!buffered(n)) continue;
      switch (n.rep) {
        case Rep::I64: r.i64[id] = reinterpret_cast<int64_t*>(p); break;
        case Rep::F64: r.f64[id] = reinterpret_cast<double*>(p); break;
        case Rep::B8: r.b8[id] = reinterpret_cast<uint8_t*>(p); break;
      }
      p += round16(capacity_ * (n.rep == Rep::B8 ? 1 : 8));
      r.valid[id] = reinterpret_cast<uint8_t*>(p);
      p += round16(capacity_);
    }
  }
  for (NodeId id = 0; id < program.nodes_.size(); ++id) {
    const Node& n = program.nodes_[id];
    Values& v = r.view[id];
    v.rep = n.rep;
    v.kind = n.kind;
    // Zero-copy instructions point into columns or operands: they need no buffers.
    v.i64 = r.zeros64, v.f64 = r.zerosf, v.b8 = r.zeros8, v.valid = r.zeros8;
    if (buffered(n)) {
      switch (n.rep) {
        case Rep::I64: v.i64 = r.i64[id]; break;
        case Rep::F64: v.f64 = r.f64[id]; break;
        case Rep::B8: v.b8 = r.b8[id]; break;
      }
      v.valid = r.valid[id];
    }
    if (n.op == Op::Const) {
      // Broadcast once per binding: constants (and today) do not change between batches.
      if (n.null_const) {
        v.valid = r.zeros8;
      } else {
        v.valid = r.ones;
        int64_t iv = n.today ? frame.today : n.string_index >= 0 ? r.string_ids[static_cast<size_t>(n.string_index)] : n.i64;
        if (n.rep == Rep::I64) std::fill_n(r.i64[id], capacity_, iv);
        if (n.rep == Rep::F64) std::fill_n(r.f64[id], capacity_, n.f64);
        if (n.rep == Rep::B8) std::fill_n(r.b8[id], capacity_, static_cast<uint8_t>(iv != 0));
      }
    }
    if (n.op == Op::InConst && n.operand_rep == Rep::I64) {
      auto& l = r.bound_list[id];
      l = n.list_i64;
      for (int32_t x : n.list_strings) l.push_back(r.string_ids[static_cast<size_t>(x)]);
    }
  }
}

Evaluator::~Evaluator() = default;

uint64_t Evaluator::executed() const { return regs_->executed; }

void Evaluator::set_batch(size_t begin, size_t end) {
  if (end < begin || end - begin > capacity_ || end > frame_->rows)
    throw std::out_of_range("Evaluator::set_batch: bad row range");
  begin_ = begin;
  n_ = end - begin;
  regs_->batch_stamp = ++regs_->serial;
}

void Evaluator::run(NodeId node, bool fresh) {
  Regs& r = *regs_;
  if (fresh || r.call_stamp < r.batch_stamp) r.call_stamp = ++r.serial;
  uint64_t call = r.call_stamp;
  for (NodeId id : program_.closures_[node]) {
    uint64_t want = program_.nodes_[id].tags_dependent ? call : r.batch_stamp;
    if (r.stamp[id] == want) continue;
    exec(id);
    ++r.executed;
    r.stamp[id] = want;
  }
}

const Truth* Evaluator::truth(NodeId node) {
  run(node);
  const Values& v = regs_->view[node];
  if (v.rep != Rep::B8) throw std::logic_error("Evaluator::truth of a non-bool node");
  ops::to_truth(v.b8, v.valid, regs_->truth, n_);
  return reinterpret_cast<const Truth*>(regs_->truth);
}

const Truth* Evaluator::condition(size_t rule) { return truth(program_.rules_.at(rule).condition); }

Evaluator::Values Evaluator::values(NodeId node) {
  run(node);
  return regs_->view[node];
}

Evaluator::Values Evaluator::current_values(NodeId node) {
  run(node, false);
  return regs_->view[node];
}

Value Evaluator::value_at(NodeId node, size_t i) {
  Regs& r = *regs_;
  run(node, false);  // reuses what the last condition/truth/values call computed, tags included
  const Values& v = r.view[node];
  if (i >= n_ || !v.valid[i]) return {};
  switch (v.rep) {
    case Rep::B8: return scalar(TypeKind::Bool, v.b8[i], 0, *frame_->strings);
    case Rep::F64: return scalar(TypeKind::Decimal, 0, v.f64[i], *frame_->strings);
    case Rep::I64: return scalar(v.kind, v.i64[i], 0, *frame_->strings);
  }
  return {};
}

// ------------------------------------------------------------------ execution

namespace {

// Code points of UTF-8 text: bytes that are not continuation bytes.
int64_t code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool in_days_range(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// civil_from_days through a table for the days of 1900..2199 (where nearly every date a rule
// computes falls), packed as year << 9 | month << 5 | day; other days compute it.
Ymd civil_cached(Days d) {
  static constexpr Days kFirst = days_from_civil(1900, 1, 1), kLast = days_from_civil(2199, 12, 31);
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(static_cast<size_t>(kLast - kFirst + 1));
    for (Days x = kFirst; x <= kLast; ++x) {
      Ymd c = civil_from_days(x);
      t[static_cast<size_t>(x - kFirst)] = static_cast<uint32_t>(c.y) << 9 | c.m << 5 | c.d;
    }
    return t;
  }();
  if (d < kFirst || d > kLast) return civil_from_days(d);
  uint32_t v = table[static_cast<size_t>(d - kFirst)];
  return {static_cast<int>(v >> 9), (v >> 5) & 15u, v & 31u};
}

}  // namespace

// The kernels are inlined here; on x86-64 this function is also compiled for AVX2 (64-bit
// integer compares vectorize only there) and AVX-512 (x86-64-v4: int64 <-> double conversions,
// compares into mask registers), and the loader picks the variant the CPU supports.
// Not under ThreadSanitizer: in a shared library the ifunc resolver runs before its runtime is ready.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define CRM_EVAL_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define CRM_EVAL_CLONES
#endif

namespace {
// x % d for a constant d (not 0, -1): ops::mod_i64_const, on its own so that g++ vectorizes its
// loops (inlined into exec, the int64 -> double loop stays scalar).
CRM_EVAL_CLONES __attribute__((noinline)) void mod_by_constant(const int64_t* a, int64_t d, int64_t* o, size_t n) {
  ops::mod_i64_const(a, d, o, n);
}
}  // namespace

CRM_EVAL_CLONES
void Evaluator::exec(NodeId id) {
  Regs& r = *regs_;
  const Node& n = program_.nodes_[id];
  Values& out = r.view[id];
  const size_t n_rows = n_;
  const size_t b = begin_;
  int64_t* oi = r.i64[id];
  double* of = r.f64[id];
  uint8_t* ob = r.b8[id];
  uint8_t* ov = r.valid[id];
  const Values* A = n.a != kNoNode ? &r.view[n.a] : nullptr;
  const Values* B = n.b != kNoNode ? &r.view[n.b] : nullptr;
  const engine::Column* col = n.column >= 0 ? r.columns[static_cast<size_t>(n.column)] : nullptr;
  auto col_valid = [&](const engine::Column* c) -> const uint8_t* {
    return c->valid.size() >= b + n_rows && !c->valid.empty() ? c->valid.data() + b : r.ones;
  };

  switch (n.op) {
    case Op::Const: return;
    case Op::LoadI64:
      r.fits32[id] = 0;
      if (!col) {
        out.i64 = r.zeros64;
        out.valid = r.zeros8;
      } else {
        out.i64 = col->i64.size() >= b + n_rows && n_rows ? col->i64.data() + b : r.zeros64;
        out.valid = col_valid(col);
        if (n.narrow && n_rows >= 64 && out.i64 != r.zeros64)  // a few rows: not worth a pass
          r.fits32[id] = ops::narrow32(out.i64, r.i32[id], n_rows);
      }
      return;
    case Op::LoadF64:
      if (!col) {
        out.f64 = r.zerosf;
        out.valid = r.zeros8;
      } else {
        out.f64 = col->f64.size() >= b + n_rows && n_rows ? col->f64.data() + b : r.zerosf;
        out.valid = col_valid(col);
      }
      return;
    case Op::LoadBool:
      out.b8 = ob;
      if (!col || col->i64.size() < b + n_rows) {
        std::fill_n(ob, n_rows, uint8_t{0});
        out.valid = r.zeros8;
      } else {
        const int64_t* src = col->i64.data() + b;
        for (size_t i = 0; i < n_rows; ++i) ob[i] = src[i] != 0;
        out.valid = col_valid(col);
      }
      return;
    case Op::LoadAny: {
      // A run-time typed column read as n.kind: same type, or int <-> decimal; else null.
      out.valid = r.zeros8;
      out.i64 = oi, out.f64 = of, out.b8 = ob;
      if (!col) return;
      TypeKind ck = col->type.kind;
      bool has_i = col->i64.size() >= b + n_rows, has_f = col->f64.size() >= b + n_rows;
      if (ck == n.kind && n.rep == Rep::I64 && has_i) {
        out.i64 = col->i64.data() + b;
        out.valid = col_valid(col);
      } else if (ck == n.kind && n.rep == Rep::F64 && has_f) {
        out.f64 = col->f64.data() + b;
        out.valid = col_valid(col);
      } else if (ck == TypeKind::Bool && n.rep == Rep::B8 && has_i) {
        for (size_t i = 0; i < n_rows; ++i) ob[i] = col->i64[b + i] != 0;
        out.valid = col_valid(col);
      } else if (ck == TypeKind::Int && n.kind == TypeKind::Decimal && has_i) {
        for (size_t i = 0; i < n_rows; ++i) of[i] = static_cast<double>(col->i64[b + i]);
        out.valid = col_valid(col);
      } else if (ck == TypeKind::Decimal && n.kind == TypeKind::Int && has_f) {
        const uint8_t* cv = col_valid(col);
        for (size_t i = 0; i < n_rows; ++i) {
          double d = col->f64[b + i];
          bool ok = d == std::trunc(d) && lang::fits_int64(d);
          oi[i] = ok ? static_cast<int64_t>(d) : 0;
          ov[i] = cv[i] & static_cast<uint8_t>(ok);
        }
        out.valid = ov;
      }
      return;
    }
    case Op::IntToDec:
      for (size_t i = 0; i < n_rows; ++i) of[i] = static_cast<double>(A->i64[i]);
      out.valid = A->valid;
      return;
    case Op::Not:
      ops::not1(A->b8, ob, n_rows);
      out.valid = A->valid;
      return;
    case Op::And:
    case Op::Or:
      if (n.lazy != kNoNode) {  // a membership operand searched only where the other is not FALSE
        const Values* X = n.lazy == n.a ? B : A;
        const Node* m = &program_.nodes_[n.lazy];
        bool neg = m->op == Op::Not;
        if (neg) m = &program_.nodes_[m->a];
        const engine::Column* lc = r.columns[static_cast<size_t>(m->column)];
        out.valid = ov;
        if (!lc || lc->list_offsets.size() < b + n_rows + 1) {  // no such list: unknown
          for (size_t i = 0; i < n_rows; ++i) ob[i] = 0, ov[i] = (X->b8[i] ^ 1) & X->valid[i];
          return;
        }
        ops::and_member(X->b8, X->valid, lc->list_offsets.data() + b, lc->list_values.data(), col_valid(lc),
                        r.view[m->a].i64[0], neg, ob, ov, n_rows);
        return;
      }
      if (A->valid == r.ones && B->valid == r.ones) {
        if (n.op == Op::And) ops::and2(A->b8, B->b8, ob, n_rows);
        else ops::or2(A->b8, B->b8, ob, n_rows);
        out.valid = r.ones;
      } else {
        if (n.op == Op::And) ops::and3(A->b8, A->valid, B->b8, B->valid, ob, ov, n_rows);
        else ops::or3(A->b8, A->valid, B->b8, B->valid, ob, ov, n_rows);
        out.valid = ov;
      }
      return;
    case Op::IsNull:
      ops::not1(A->valid, ob, n_rows);
      out.valid = r.ones;
      return;
    case Op::IsNotNull:
      out.b8 = A->valid;  // zero-copy: validity is the answer
      out.valid = r.ones;
      return;
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      out.valid = ops::and_valid(A->valid, B->valid, ov, n_rows, r.ones);
      if (n.string_text) {
        const StringPool& pool = *frame_->strings;
        for (size_t i = 0; i < n_rows; ++i) {
          int c = 0;
          if (out.valid[i]) {
            std::string_view x = pool.get(A->i64[i]), y = pool.get(B->i64[i]);
            c = x < y ? -1 : x > y ? 1 : 0;
          }
          bool res = n.op == Op::Lt ? c < 0 : n.op == Op::Le ? c <= 0 : n.op == Op::Gt ? c > 0 : c >= 0;
          ob[i] = res;
        }
        return;
      }
      auto cmp = [&](const auto* x, const auto* y) CRM_KERNEL_LAMBDA {
        switch (n.op) {
          case Op::Eq: ops::compare(x, y, ob, n_rows, std::equal_to<>{}); break;
          case Op::Ne: ops::compare(x, y, ob, n_rows, std::not_equal_to<>{}); break;
          case Op::Lt: ops::compare(x, y, ob, n_rows, std::less<>{}); break;
          case Op::Le: ops::compare(x, y, ob, n_rows, std::less_equal<>{}); break;
          case Op::Gt: ops::compare(x, y, ob, n_rows, std::greater<>{}); break;
          default: ops::compare(x, y, ob, n_rows, std::greater_equal<>{}); break;
        }
      };
      auto cmp_scalar = [&](const auto* x, auto y) CRM_KERNEL_LAMBDA {
        switch (n.op) {
          case Op::Eq: ops::compare_scalar(x, y, ob, n_rows, std::equal_to<>{}); break;
          case Op::Ne: ops::compare_scalar(x, y, ob, n_rows, std::not_equal_to<>{}); break;
          case Op::Lt: ops::compare_scalar(x, y, ob, n_rows, std::less<>{}); break;
          case Op::Le: ops::compare_scalar(x, y, ob, n_rows, std::less_equal<>{}); break;
          case Op::Gt: ops::compare_scalar(x, y, ob, n_rows, std::greater<>{}); break;
          default: ops::compare_scalar(x, y, ob, n_rows, std::greater_equal<>{}); break;
        }
      };
      const Node& bn = program_.nodes_[n.b];
      bool b_const = bn.op == Op::Const && !bn.null_const;
      if (n.operand_rep == Rep::I64) {
        // On the load's int32 copy when the batch and the constant fit: the same answers.
        if (b_const && r.fits32[n.a] && B->i64[0] >= INT32_MIN && B->i64[0] <= INT32_MAX)
          cmp_scalar(static_cast<const int32_t*>(r.i32[n.a]), static_cast<int32_t>(B->i64[0]));
        else if (b_const) cmp_scalar(A->i64, B->i64[0]);
        else cmp(A->i64, B->i64);
      } else if (n.operand_rep == Rep::F64) {
        if (b_const) cmp_scalar(A->f64, B->f64[0]);
        else cmp(A->f64, B->f64);
      } else {
        cmp(A->b8, B->b8);
      }
      return;
    }
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod:
      if (n.operand_rep == Rep::I64) {
        switch (n.op) {
          case Op::Add: ops::add_i64(A->i64, B->i64, A->valid, B->valid, oi, ov, n_rows); break;
          case Op::Sub: ops::sub_i64(A->i64, B->i64, A->valid, B->valid, oi, ov, n_rows); break;
          case Op::Mul: ops::mul_i64(A->i64, B->i64, A->valid, B->valid, oi, ov, n_rows); break;
          case Op::Div: ops::div_i64(A->i64, B->i64, A->valid, B->valid, of, ov, n_rows); break;
          default: {
            const Node& bn = program_.nodes_[n.b];
            if (bn.op == Op::Const && !bn.null_const && B->i64[0] != 0 && B->i64[0] != -1) {
              mod_by_constant(A->i64, B->i64[0], oi, n_rows);
              std::copy_n(A->valid, n_rows, ov);
            } else {
              ops::mod_i64(A->i64, B->i64, A->valid, B->valid, oi, ov, n_rows);
            }
            break;
          }
        }
        if (n.kind == TypeKind::Date)  // a date must stay a calendar day
          for (size_t i = 0; i < n_rows; ++i) ov[i] &= static_cast<uint8_t>(in_days_range(oi[i]));
      } else {
        switch (n.op) {
          case Op::Add: ops::arith_f64(A->f64, B->f64, A->valid, B->valid, of, ov, n_rows, std::plus<>{}); break;
          case Op::Sub: ops::arith_f64(A->f64, B->f64, A->valid, B->valid, of, ov, n_rows, std::minus<>{}); break;
          case Op::Mul: ops::arith_f64(A->f64, B->f64, A->valid, B->valid, of, ov, n_rows, std::multiplies<>{}); break;
          case Op::Div: ops::div_f64(A->f64, B->f64, A->valid, B->valid, of, ov, n_rows); break;
          default: ops::mod_f64(A->f64, B->f64, A->valid, B->valid, of, ov, n_rows); break;
        }
      }
      out.valid = ov;
      return;
    case Op::Neg:
      if (n.rep == Rep::I64) {
        for (size_t i = 0; i < n_rows; ++i) {
          oi[i] = A->i64[i] == INT64_MIN ? 0 : -A->i64[i];
          ov[i] = A->valid[i] & static_cast<uint8_t>(A->i64[i] != INT64_MIN);
        }
        out.valid = ov;
      } else {
        for (size_t i = 0; i < n_rows; ++i) of[i] = -A->f64[i];
        out.valid = A->valid;
      }
      return;
    case Op::Abs:
      if (n.rep == Rep::I64) {
        for (size_t i = 0; i < n_rows; ++i) {
          int64_t x = A->i64[i];
          oi[i] = x == INT64_MIN ? 0 : x < 0 ? -x : x;
          ov[i] = A->valid[i] & static_cast<uint8_t>(x != INT64_MIN);
        }
        out.valid = ov;
      } else {
        for (size_t i = 0; i < n_rows; ++i) of[i] = std::fabs(A->f64[i]);
        out.valid = A->valid;
      }
      return;
    case Op::Min:
    case Op::Max:
      out.valid = ops::and_valid(A->valid, B->valid, ov, n_rows, r.ones);
      if (n.rep == Rep::I64) {
        for (size_t i = 0; i < n_rows; ++i)
          oi[i] = n.op == Op::Min ? std::min(A->i64[i], B->i64[i]) : std::max(A->i64[i], B->i64[i]);
      } else if (n.rep == Rep::F64) {
        for (size_t i = 0; i < n_rows; ++i)
          of[i] = n.op == Op::Min ? std::min(A->f64[i], B->f64[i]) : std::max(A->f64[i], B->f64[i]);
      } else {
        for (size_t i = 0; i < n_rows; ++i)
          ob[i] = n.op == Op::Min ? std::min(A->b8[i], B->b8[i]) : std::max(A->b8[i], B->b8[i]);
      }
      return;
    case Op::Coalesce: {
      std::fill_n(ov, n_rows, uint8_t{0});
      for (NodeId x : n.args) {
        const Values& v = r.view[x];
        for (size_t i = 0; i < n_rows; ++i) {
          bool take = !ov[i] && v.valid[i];
          if (n.rep == Rep::I64) oi[i] = take ? v.i64[i] : oi[i];
          else if (n.rep == Rep::F64) of[i] = take ? v.f64[i] : of[i];
          else ob[i] = take ? v.b8[i] : ob[i];
          ov[i] |= v.valid[i];
        }
      }
      out.valid = ov;
      return;
    }
    case Op::InConst: {
      if (n.operand_rep == Rep::F64) {
        ops::in_set(A->f64, n.list_f64.data(), n.list_f64.size(), ob, n_rows);
      } else if (n.operand_rep == Rep::I64) {
        const auto& l = r.bound_list[id];
        ops::in_set(A->i64, l.data(), l.size(), ob, n_rows);
      } else {
        std::vector<uint8_t> bools;
        for (int64_t x : n.list_i64) bools.push_back(static_cast<uint8_t>(x != 0));
        ops::in_set(A->b8, bools.data(), bools.size(), ob, n_rows);
      }
      if (n.list_has_null) {  // not found, but the list holds null: unknown
        for (size_t i = 0; i < n_rows; ++i) ov[i] = A->valid[i] & ob[i];
        out.valid = ov;
      } else {
        out.valid = A->valid;
      }
      return;
    }
    case Op::InColumn: {
      if (!col || col->list_offsets.size() < b + n_rows + 1) {
        std::fill_n(ob, n_rows, uint8_t{0});
        out.valid = r.zeros8;
        return;
      }
      const uint32_t* off = col->list_offsets.data() + b;
      const int64_t* vals = col->list_values.data();
      if (n.operand_rep == Rep::F64) {
        for (size_t i = 0; i < n_rows; ++i) {
          uint8_t f = 0;
          for (uint32_t j = off[i]; j < off[i + 1]; ++j) f |= static_cast<uint8_t>(static_cast<double>(vals[j]) == A->f64[i]);
          ob[i] = f;
        }
      } else if (program_.nodes_[n.a].op == Op::Const) {
        // A constant needle ("vip" in tags): count matches with a prefix sum over the batch's
        // elements, then each row compares two prefix counts; no per-row loop, no branch.
        const int64_t x = A->i64[0];
        const size_t lo = off[0], m = off[n_rows] - lo;
        auto& pref = r.prefix;
        if (pref.size() < m + 1) pref.resize(m + 1);
        uint32_t acc = 0;
        pref[0] = 0;
        for (size_t j = 0; j < m; ++j) {
          acc += vals[lo + j] == x;
          pref[j + 1] = acc;
        }
        for (size_t i = 0; i < n_rows; ++i) ob[i] = pref[off[i + 1] - lo] != pref[off[i] - lo];
      } else {
        for (size_t i = 0; i < n_rows; ++i) {
          uint8_t f = 0;
          int64_t x = A->i64[i];
          for (uint32_t j = off[i]; j < off[i + 1]; ++j) f |= static_cast<uint8_t>(vals[j] == x);
          ob[i] = f;
        }
      }
      // Elements are never null, so only a null needle or a null list is unknown.
      out.valid = ops::and_valid(A->valid, col_valid(col), ov, n_rows, r.ones);
      return;
    }
    case Op::LenColumn:
      if (!col || col->list_offsets.size() < b + n_rows + 1) {
        out.valid = r.zeros8;
        return;
      }
      for (size_t i = 0; i < n_rows; ++i) oi[i] = col->list_offsets[b + i + 1] - col->list_offsets[b + i];
      out.valid = col_valid(col);
      return;
    case Op::LenString: {
      const StringPool& pool = *frame_->strings;
      for (size_t i = 0; i < n_rows; ++i) oi[i] = A->valid[i] ? code_points(pool.get(A->i64[i])) : 0;
      out.valid = A->valid;
      return;
    }
    case Op::Year: {
      // Dates of a batch mostly fall in one or two years: remember the last two years' ranges.
      Days lo[2] = {1, 1}, hi[2] = {0, 0};
      int64_t years[2] = {0, 0};
      int next = 0;
      for (size_t i = 0; i < n_rows; ++i) {
        int64_t d = A->i64[i];
        bool ok = in_days_range(d);
        Days x = ok ? static_cast<Days>(d) : 0;
        int64_t y;
        if (x >= lo[0] && x <= hi[0]) {
          y = years[0];
        } else if (x >= lo[1] && x <= hi[1]) {
          y = years[1];
        } else {
          int cy = civil_cached(x).y;
          y = cy;
          if (cy < 1900 || cy > 2199) {  // rare: no range kept (and no overflow at the edges)
            oi[i] = y;
            ov[i] = A->valid[i] & static_cast<uint8_t>(ok);
            continue;
          }
          lo[next] = days_from_civil(cy, 1, 1);
          hi[next] = days_from_civil(cy, 12, 31);
          years[next] = y;
          next ^= 1;
        }
        oi[i] = y;
        ov[i] = A->valid[i] & static_cast<uint8_t>(ok);
      }
      out.valid = ov;
      return;
    }
    case Op::Month:
    case Op::Day:
      for (size_t i = 0; i < n_rows; ++i) {
        int64_t d = A->i64[i];
        bool ok = in_days_range(d);
        Ymd c = civil_cached(ok ? static_cast<Days>(d) : 0);
        oi[i] = n.op == Op::Year ? c.y : n.op == Op::Month ? c.m : c.d;
        ov[i] = A->valid[i] & static_cast<uint8_t>(ok);
      }
      out.valid = ov;
      return;
    case Op::Lower:
    case Op::Upper: {
      StringPool& pool = *frame_->strings;
      auto& cache = n.op == Op::Lower ? r.lower_cache : r.upper_cache;
      for (size_t i = 0; i < n_rows; ++i) {
        if (!A->valid[i]) {
          oi[i] = 0;
          continue;
        }
        int64_t s = A->i64[i];
        auto it = cache.find(s);
        if (it == cache.end()) {
          std::string t(pool.get(s));
          for (char& c : t) {
            if (n.op == Op::Lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (n.op == Op::Upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          }
          it = cache.emplace(s, pool.intern(t)).first;
        }
        oi[i] = it->second;
      }
      out.valid = A->valid;
      return;
    }
  }
}

// ------------------------------------------------------------------ explain

Explanation Evaluator::explain_node(const lang::Expr& e, size_t i) {
  Explanation x;
  x.expr = &e;
  x.type = e.type.kind;
  const Frame& f = *frame_;
  auto list_column = [&](const lang::Expr& name) -> Value {
    const engine::Column* c = f.column(name.text);
    if (!c) return {};
    return column_value(f, *c, begin_ + i);
  };
  NodeId node = program_.node_of(&e);
  auto it = program_.definitions_.find(e.text);
  bool is_def = e.kind == lang::Expr::Kind::Name && it != program_.definitions_.end() && it->second->expr;
  if (is_def) {
    x.definition = true;
    x.children.push_back(explain_node(*it->second->expr, i));
    x.value = x.children.back().value;
    if (x.type == TypeKind::Error) x.type = x.children.back().type;
    return x;
  }
  for (const auto& a : e.args)
    if (a) x.children.push_back(explain_node(*a, i));
  if (e.kind == lang::Expr::Kind::List) {
    x.value.kind = Value::Kind::List;
    for (const auto& c : x.children) x.value.list.push_back(c.value);
  } else if (e.kind == lang::Expr::Kind::Name && e.type.kind == TypeKind::List) {
    x.value = list_column(e);
  } else if (node != kNoNode) {
    x.value = value_at(node, i);
    if (x.type == TypeKind::Error) x.type = program_.nodes_[node].kind;
  }
  return x;
}

Explanation Evaluator::explain(const lang::Expr& e, size_t row) {
  set_batch(row, row + 1);
  return explain_node(e, 0);
}

std::vector<Explanation> Evaluator::explain_rule(size_t rule, size_t row) {
  const CompiledRule& r = program_.rules_.at(rule);
  std::vector<Explanation> out;
  set_batch(row, row + 1);
  if (r.source) {
    for (const lang::Expr* c : r.source->conditions)
      if (c) out.push_back(explain_node(*c, 0));
    if (r.source->unless) out.push_back(explain_node(*r.source->unless, 0));
    if (r.source->exit_when) out.push_back(explain_node(*r.source->exit_when, 0));
  }
  return out;
}

}  // namespace crm::engine
