// The compiler: typed lang::Expr trees -> hash-consed vector instructions (engine::Node), so
// every distinct sub-expression of every rule and definition becomes one instruction.
// Runs after the checker; program.cpp executes the result.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include "lang/subject.hpp"
#include "engine/eval/program.hpp"
#include "engine/frame/model_attributes.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/builtins.hpp"

namespace crm::engine {

using lang::BinOp;
using lang::Expr;
using lang::TypeKind;

namespace {

Rep rep_of(TypeKind k) {
  switch (k) {
    case TypeKind::Bool: return Rep::B8;
    case TypeKind::Decimal: return Rep::F64;
    default: return Rep::I64;
  }
}

bool is_compare(BinOp op) {
  return op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt ||
         op == BinOp::Ge;
}

Op compare_op(BinOp op) {
  switch (op) {
    case BinOp::Eq: return Op::Eq;
    case BinOp::Ne: return Op::Ne;
    case BinOp::Lt: return Op::Lt;
    case BinOp::Le: return Op::Le;
    case BinOp::Gt: return Op::Gt;
    default: return Op::Ge;
  }
}

Op arith_op(BinOp op) {
  switch (op) {
    case BinOp::Add: return Op::Add;
    case BinOp::Sub: return Op::Sub;
    case BinOp::Mul: return Op::Mul;
    case BinOp::Div: return Op::Div;
    default: return Op::Mod;
  }
}

// The key that makes identical instructions one node.
std::string node_key(const Node& n) {
  std::string k;
  auto put = [&](const void* p, size_t size) { k.append(static_cast<const char*>(p), size); };
  auto put64 = [&](int64_t v) { put(&v, sizeof v); };
  put64(static_cast<int64_t>(n.op) | static_cast<int64_t>(n.rep) << 8 | static_cast<int64_t>(n.kind) << 16 |
        static_cast<int64_t>(n.operand_rep) << 24 | static_cast<int64_t>(n.string_text) << 32 |
        static_cast<int64_t>(n.null_const) << 33 | static_cast<int64_t>(n.list_has_null) << 34 |
        static_cast<int64_t>(n.today) << 35);
  put64(n.a);
  put64(n.b);
  put64(n.column);
  put64(n.i64);
  put(&n.f64, sizeof n.f64);
  put64(n.string_index);
  put64(static_cast<int64_t>(n.args.size()));
  for (NodeId x : n.args) put64(x);
  put64(static_cast<int64_t>(n.list_i64.size()));
  for (int64_t x : n.list_i64) put64(x);
  put64(static_cast<int64_t>(n.list_f64.size()));
  for (double x : n.list_f64) put(&x, sizeof x);
  put64(static_cast<int64_t>(n.list_strings.size()));
  for (int32_t x : n.list_strings) put64(x);
  return k;
}

}  // namespace

struct Compiler {
  lang::Diagnostics& diags;
  lang::SourcePtr file;
  Program prog;
  std::unordered_map<std::string, NodeId> keys;
  std::unordered_map<std::string, int32_t> column_index;
  std::unordered_map<std::string, int32_t> string_index;
  std::unordered_map<std::string, NodeId> definition_nodes;  // compiled definitions by name
  std::set<std::string> compiling;                          // definitions being compiled (cycle guard)

  Compiler(lang::Diagnostics& d, lang::SourcePtr f) : diags(d), file(std::move(f)) {}

  // ------------------------------------------------------------ node construction
  NodeId add(Node n) {
    std::string key = node_key(n);
    auto it = keys.find(key);
    if (it != keys.end()) return it->second;
    if (n.column >= 0 && prog.columns_[static_cast<size_t>(n.column)] == "tags") n.tags_dependent = true;
    auto dep = [&](NodeId x) { return x != kNoNode && prog.nodes_[x].tags_dependent; };
    if (dep(n.a) || dep(n.b)) n.tags_dependent = true;
    for (NodeId x : n.args)
      if (dep(x)) n.tags_dependent = true;
    if (n.op == Op::Lower || n.op == Op::Upper) prog.interns_strings_ = true;
    NodeId id = static_cast<NodeId>(prog.nodes_.size());
    prog.nodes_.push_back(std::move(n));
    keys.emplace(std::move(key), id);
    return id;
  }

  int32_t column(const std::string& name) {
    auto [it, fresh] = column_index.emplace(name, static_cast<int32_t>(prog.columns_.size()));
    if (fresh) prog.columns_.push_back(name);
    return it->second;
  }

  int32_t string_const(const std::string& s) {
    auto [it, fresh] = string_index.emplace(s, static_cast<int32_t>(prog.strings_.size()));
    if (fresh) prog.strings_.push_back(s);
    return it->second;
  }

  NodeId null_const(Rep rep, TypeKind kind) {
    Node n;
    n.op = Op::Const;
    n.rep = rep;
    n.kind = kind;
    n.null_const = true;
    return add(std::move(n));
  }

  NodeId bool_const(bool v) {
    Node n;
    n.op = Op::Const;
    n.rep = Rep::B8;
    n.kind = TypeKind::Bool;
    n.i64 = v;
    return add(std::move(n));
  }

  NodeId unary(Op op, Rep rep, TypeKind kind, NodeId a, Rep operand_rep) {
    Node n;
    n.op = op;
    n.rep = rep;
    n.kind = kind;
    n.a = a;
    n.operand_rep = operand_rep;
    return add(std::move(n));
  }

  NodeId binary(Op op, Rep rep, TypeKind kind, NodeId a, NodeId b, Rep operand_rep, bool string_text = false) {
    // Commutative operations list their operands in a canonical order, so `a and b` and
    // `b and a` (or `x == 1` and `1 == x`) are one instruction.
    bool commutative = op == Op::And || op == Op::Or || op == Op::Eq || op == Op::Ne || op == Op::Add ||
                       op == Op::Mul || op == Op::Min || op == Op::Max;
    bool b_const = prog.nodes_[b].op == Op::Const, a_const = prog.nodes_[a].op == Op::Const;
    // Constants go right (the kernels keep a right-hand constant in a register).
    if (commutative && (a_const != b_const ? a_const : a > b)) std::swap(a, b);
    Node n;
    n.op = op;
    n.rep = rep;
    n.kind = kind;
    n.a = a;
    n.b = b;
    n.operand_rep = operand_rep;
    n.string_text = string_text;
    return add(std::move(n));
  }

  // Converts a node to the wanted representation (only int -> decimal widens).
  NodeId as_rep(NodeId x, Rep want) {
    const Node& n = prog.nodes_[x];
    if (n.rep == want) return x;
    if (n.op == Op::Const && n.null_const) return null_const(want, n.kind);
    if (n.rep == Rep::I64 && want == Rep::F64) {
      if (n.op == Op::Const && !n.today && n.string_index < 0) {
        Node c;
        c.op = Op::Const;
        c.rep = Rep::F64;
        c.kind = TypeKind::Decimal;
        c.f64 = static_cast<double>(n.i64);
        return add(std::move(c));
      }
      return unary(Op::IntToDec, Rep::F64, TypeKind::Decimal, x, Rep::I64);
    }
    error(nullptr, "cannot convert a value of representation " + std::to_string(int(n.rep)) + " to " +
                       std::to_string(int(want)));
    return null_const(want, n.kind);
  }

  void error(const Expr* e, std::string message) {
    diags.error(file, e ? e->span : lang::Span{}, lang::code::compile, std::move(message));
  }

  // ------------------------------------------------------------ expressions
  const lang::Definition* definition(const Expr& e) const {
    if (e.kind != Expr::Kind::Name) return nullptr;
    auto it = prog.definitions_.find(e.text);
    return it == prog.definitions_.end() ? nullptr : it->second;
  }

  // Follows names of definitions to the expression that gives a list (a literal or a column).
  const Expr* list_source(const Expr& e) {
    const Expr* x = &e;
    for (int depth = 0; depth < 64; ++depth) {
      const lang::Definition* d = definition(*x);
      if (!d || !d->expr) return x;
      x = d->expr.get();
    }
    return x;
  }

  // A list read from a frame column: a list attribute, or recommended(N) (model_attributes.hpp).
  static bool is_recommended(const Expr& e) {
    const stdlib::FuncInfo* f = e.kind == Expr::Kind::Call ? stdlib::find_function(e.text) : nullptr;
    return f && f->id == stdlib::FuncId::Recommended && !model_column_name(e).empty();
  }
  static bool is_list_column(const Expr& e) { return e.kind == Expr::Kind::Name || is_recommended(e); }
  static std::string list_column(const Expr& e) { return e.kind == Expr::Kind::Name ? e.text : model_column_name(e); }

  // The static type of an expression, seeing through definitions when the checker left none.
  TypeKind type_of(const Expr& e) const {
    if (e.type.kind != TypeKind::Error) return e.type.kind;
    switch (e.kind) {
      case Expr::Kind::Int: return TypeKind::Int;
      case Expr::Kind::Decimal: return TypeKind::Decimal;
      case Expr::Kind::String: return TypeKind::String;
      case Expr::Kind::Bool: return TypeKind::Bool;
      case Expr::Kind::Null: return TypeKind::Null;
      case Expr::Kind::Date: return TypeKind::Date;
      case Expr::Kind::List: return TypeKind::List;
      default: return TypeKind::Error;
    }
  }

  // `hint`: the type the context expects, for `null` literals and run-time typed payload fields.
  // Recursion depth of compile (through expressions and the definitions they name). The checker
  // refuses scripts past lang::kMaxDefinitionDepth (E-too-deep); this guard keeps an unchecked
  // or hand-built program from overflowing the stack all the same.
  static constexpr int kMaxCompileDepth = 2 * lang::kMaxDefinitionDepth + 1000;
  int depth = 0;

  NodeId compile(const Expr& e, TypeKind hint = TypeKind::Int) {
    if (depth >= kMaxCompileDepth) {
      error(&e, "expression nested too deeply to compile (through definitions)");
      return null_const(Rep::I64, TypeKind::Int);
    }
    ++depth;
    NodeId id = compile_uncached(e, hint);
    --depth;
    prog.expr_nodes_[&e] = id;
    return id;
  }

  NodeId compile_uncached(const Expr& e, TypeKind hint) {
    switch (e.kind) {
      case Expr::Kind::Int:
      case Expr::Kind::Date: {
        Node n;
        n.kind = e.kind == Expr::Kind::Int ? TypeKind::Int : TypeKind::Date;
        n.i64 = e.ival;
        return add(std::move(n));
      }
      case Expr::Kind::Decimal: {
        Node n;
        n.rep = Rep::F64;
        n.kind = TypeKind::Decimal;
        n.f64 = e.dval;
        return add(std::move(n));
      }
      case Expr::Kind::String: {
        Node n;
        n.kind = TypeKind::String;
        n.string_index = string_const(e.text);
        return add(std::move(n));
      }
      case Expr::Kind::Bool: return bool_const(e.ival != 0);
      case Expr::Kind::Null:
        if (hint == TypeKind::Null || hint == TypeKind::Any || hint == TypeKind::Error || hint == TypeKind::List)
          hint = TypeKind::Int;
        return null_const(rep_of(hint), hint);
      case Expr::Kind::List:
        error(&e, "a list can only be used with `in`, `not in` and len()");
        return null_const(Rep::I64, TypeKind::Int);
      case Expr::Kind::Name: return compile_name(e, hint);
      case Expr::Kind::Call: return compile_call(e);
      case Expr::Kind::Unary: {
        if (e.uop == lang::UnOp::Not)
          return unary(Op::Not, Rep::B8, TypeKind::Bool, compile(*e.args[0], TypeKind::Bool), Rep::B8);
        NodeId a = compile(*e.args[0], hint == TypeKind::Decimal ? TypeKind::Decimal : TypeKind::Int);
        const Node& n = prog.nodes_[a];
        if (n.op == Op::Const && !n.null_const && n.rep == Rep::I64 && n.i64 != INT64_MIN && n.kind == TypeKind::Int) {
          Node c = n;
          c.i64 = -n.i64;
          return add(std::move(c));
        }
        if (n.op == Op::Const && !n.null_const && n.rep == Rep::F64) {
          Node c = n;
          c.f64 = -n.f64;
          return add(std::move(c));
        }
        return unary(Op::Neg, n.rep, n.kind, a, n.rep);
      }
      case Expr::Kind::Binary: return compile_binary(e);
      case Expr::Kind::IsNull: {
        const Expr& x = *e.args[0];
        NodeId a;
        const Expr* src = type_of(x) == TypeKind::List ? list_source(x) : nullptr;
        if (src && is_list_column(*src)) {
          Node n;
          n.op = Op::LoadI64;
          n.kind = TypeKind::List;
          n.column = column(list_column(*src));
          a = add(std::move(n));
          prog.expr_nodes_[&x] = a;
        } else if (src) {
          a = bool_const(true);  // a list literal is never null
        } else {
          a = compile(x);
        }
        return unary(e.negated ? Op::IsNotNull : Op::IsNull, Rep::B8, TypeKind::Bool, a, prog.nodes_[a].rep);
      }
    }
    return null_const(Rep::I64, TypeKind::Int);
  }

  NodeId compile_name(const Expr& e, TypeKind hint) {
    if (const lang::Definition* d = definition(e)) {
      auto it = definition_nodes.find(d->name);
      if (it != definition_nodes.end()) return it->second;
      if (!d->expr || compiling.count(d->name)) {
        error(&e, "definition '" + d->name + "' cannot be compiled (cycle)");
        return null_const(rep_of(type_of(e)), type_of(e));
      }
      compiling.insert(d->name);
      NodeId id = compile(*d->expr, hint);
      compiling.erase(d->name);
      definition_nodes.emplace(d->name, id);
      return id;
    }
    TypeKind t = type_of(e);
    Node n;
    n.column = column(e.text);
    n.kind = t;
    switch (t) {
      case TypeKind::Bool: n.op = Op::LoadBool; n.rep = Rep::B8; break;
      case TypeKind::Decimal: n.op = Op::LoadF64; n.rep = Rep::F64; break;
      case TypeKind::Int:
      case TypeKind::Date:
      case TypeKind::String: n.op = Op::LoadI64; n.rep = Rep::I64; break;
      case TypeKind::Any: {
        // A payload field typed only at run time: read as the type the context wants.
        TypeKind want = hint;
        if (want == TypeKind::Null || want == TypeKind::Any || want == TypeKind::Error || want == TypeKind::List)
          want = TypeKind::String;
        n.op = Op::LoadAny;
        n.kind = want;
        n.rep = rep_of(want);
        break;
      }
      case TypeKind::List:
        error(&e, "the list '" + e.text + "' can only be used with `in`, `not in`, `is null` and len()");
        return null_const(Rep::I64, TypeKind::Int);
      default:
        error(&e, "'" + e.text + "' has no type (was the program checked?)");
        return null_const(Rep::I64, TypeKind::Int);
    }
    return add(std::move(n));
  }

  // The common type two operands are compared or combined in. A run-time typed payload field
  // (Any) next to an int is read as decimal, so that 150.5 > 100 holds whichever it turns out to be.
  static TypeKind unify(TypeKind a, TypeKind b) {
    if ((a == TypeKind::Any && b == TypeKind::Int) || (a == TypeKind::Int && b == TypeKind::Any)) return TypeKind::Decimal;
    auto loose = [](TypeKind k) { return k == TypeKind::Null || k == TypeKind::Any || k == TypeKind::Error; };
    if (loose(a)) return loose(b) ? TypeKind::Int : b;
    if (loose(b)) return a;
    if (a == TypeKind::Decimal || b == TypeKind::Decimal) return TypeKind::Decimal;
    return a;
  }

  // Folds the types of several values (list elements, coalesce/min/max arguments) into their
  // common type, skipping null and run-time typed ones; Null when every one is.
  static TypeKind fold(TypeKind acc, TypeKind k) {
    auto loose = [](TypeKind x) { return x == TypeKind::Null || x == TypeKind::Any || x == TypeKind::Error; };
    if (loose(k)) return acc;
    if (loose(acc)) return k;
    return unify(acc, k);
  }

  // The result type of a variadic call: the checker's, else the fold of the arguments.
  TypeKind common_type(const Expr& e) const {
    TypeKind t = e.type.kind;
    if (t == TypeKind::Int || t == TypeKind::Decimal || t == TypeKind::String || t == TypeKind::Date ||
        t == TypeKind::Bool)
      return t;
    t = TypeKind::Null;
    for (const auto& a : e.args) t = fold(t, type_of(*a));
    return t == TypeKind::Null ? TypeKind::Int : t;
  }

  NodeId compile_binary(const Expr& e) {
    const Expr& x = *e.args[0];
    const Expr& y = *e.args[1];
    if (e.bop == BinOp::And || e.bop == BinOp::Or) {
      NodeId a = compile(x, TypeKind::Bool), b = compile(y, TypeKind::Bool);
      return binary(e.bop == BinOp::And ? Op::And : Op::Or, Rep::B8, TypeKind::Bool, a, b, Rep::B8);
    }
    if (e.bop == BinOp::In || e.bop == BinOp::NotIn) {
      NodeId in = compile_in(e, x, y);
      if (e.bop == BinOp::In) return in;
      return unary(Op::Not, Rep::B8, TypeKind::Bool, in, Rep::B8);
    }
    TypeKind tx = type_of(x), ty = type_of(y);
    if (is_compare(e.bop)) {
      TypeKind t = unify(tx, ty);
      NodeId a = compile(x, t), b = compile(y, t);
      Rep r = rep_of(t);
      a = as_rep(a, r);
      b = as_rep(b, r);
      bool text = t == TypeKind::String && e.bop != BinOp::Eq && e.bop != BinOp::Ne;
      return binary(compare_op(e.bop), Rep::B8, TypeKind::Bool, a, b, r, text);
    }
    // Arithmetic.
    TypeKind t = unify(tx, ty);
    if (t == TypeKind::Date || tx == TypeKind::Date || ty == TypeKind::Date) {
      NodeId a = compile(x, TypeKind::Int), b = compile(y, TypeKind::Int);
      TypeKind kind = TypeKind::Date;
      if (e.bop == BinOp::Sub && tx == TypeKind::Date && ty == TypeKind::Date) kind = TypeKind::Int;
      if (e.type.kind == TypeKind::Int || e.type.kind == TypeKind::Date) kind = e.type.kind;
      return binary(arith_op(e.bop), Rep::I64, kind, as_rep(a, Rep::I64), as_rep(b, Rep::I64), Rep::I64);
    }
    if (t != TypeKind::Decimal) t = TypeKind::Int;
    NodeId a = as_rep(compile(x, t), rep_of(t)), b = as_rep(compile(y, t), rep_of(t));
    if (e.bop == BinOp::Div) return binary(Op::Div, Rep::F64, TypeKind::Decimal, a, b, rep_of(t));
    return binary(arith_op(e.bop), rep_of(t), t, a, b, rep_of(t));
  }

  static bool is_literal(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Int:
      case Expr::Kind::Decimal:
      case Expr::Kind::String:
      case Expr::Kind::Bool:
      case Expr::Kind::Null:
      case Expr::Kind::Date: return true;
      case Expr::Kind::Unary:
        return e.uop == lang::UnOp::Neg &&
               (e.args[0]->kind == Expr::Kind::Int || e.args[0]->kind == Expr::Kind::Decimal);
      default: return false;
    }
  }

  NodeId compile_in(const Expr& e, const Expr& x, const Expr& list) {
    const Expr* src = list_source(list);
    TypeKind elem = list.type.kind == TypeKind::List ? list.type.elem : TypeKind::Error;
    if (src->kind == Expr::Kind::List) {
      for (const auto& el : src->args) elem = fold(elem, type_of(*el));
      TypeKind t = unify(type_of(x), elem);
      Rep r = rep_of(t);
      NodeId a = as_rep(compile(x, t), r);
      bool constant = true;
      for (const auto& el : src->args) constant = constant && is_literal(*el);
      if (!constant) {
        // x in [e1, e2, ...] is x == e1 or x == e2 or ... (SQL's definition, nulls included).
        NodeId acc = bool_const(false);
        for (const auto& el : src->args) {
          NodeId b = as_rep(compile(*el, t), r);
          acc = binary(Op::Or, Rep::B8, TypeKind::Bool, acc, binary(Op::Eq, Rep::B8, TypeKind::Bool, a, b, r), Rep::B8);
        }
        return acc;
      }
      Node n;
      n.op = Op::InConst;
      n.rep = Rep::B8;
      n.kind = TypeKind::Bool;
      n.operand_rep = r;
      n.a = a;
      std::set<int64_t> ints;
      std::set<double> decs;
      std::set<int32_t> strs;
      for (const auto& el : src->args) {
        NodeId c = as_rep(compile(*el, t), r);
        const Node& cn = prog.nodes_[c];
        if (cn.null_const) n.list_has_null = true;
        else if (cn.string_index >= 0) strs.insert(cn.string_index);
        else if (r == Rep::F64) decs.insert(cn.f64);
        else ints.insert(cn.i64);
      }
      n.list_i64.assign(ints.begin(), ints.end());
      n.list_f64.assign(decs.begin(), decs.end());
      n.list_strings.assign(strs.begin(), strs.end());
      return add(std::move(n));
    }
    if (is_list_column(*src) && type_of(*src) == TypeKind::List) {
      TypeKind t = unify(type_of(x), src->type.elem);
      Node n;
      n.op = Op::InColumn;
      n.rep = Rep::B8;
      n.kind = TypeKind::Bool;
      n.operand_rep = rep_of(t);
      n.a = compile(x, t);
      n.column = column(list_column(*src));
      return add(std::move(n));
    }
    error(&list, "`in` needs a list literal or a list attribute on its right");
    return null_const(Rep::B8, TypeKind::Bool);
  }

  NodeId compile_call(const Expr& e) {
    const stdlib::FuncInfo* f = stdlib::find_function(e.text);
    if (!f) {
      error(&e, "unknown function '" + e.text + "'");
      return null_const(rep_of(type_of(e)), type_of(e));
    }
    auto arity = [&](size_t lo, size_t hi) {
      if (e.args.size() >= lo && e.args.size() <= hi) return true;
      error(&e, "wrong number of arguments to " + e.text + "()");
      return false;
    };
    using stdlib::FuncId;
    switch (f->id) {
      case FuncId::Today: {
        Node n;
        n.kind = TypeKind::Date;
        n.today = true;
        return add(std::move(n));
      }
      case FuncId::Year:
      case FuncId::Month:
      case FuncId::Day: {
        if (!arity(1, 1)) break;
        Op op = f->id == FuncId::Year ? Op::Year : f->id == FuncId::Month ? Op::Month : Op::Day;
        return unary(op, Rep::I64, TypeKind::Int, compile(*e.args[0], TypeKind::Date), Rep::I64);
      }
      case FuncId::DaysBetween: {
        if (!arity(2, 2)) break;
        NodeId a = compile(*e.args[0], TypeKind::Date), b = compile(*e.args[1], TypeKind::Date);
        return binary(Op::Sub, Rep::I64, TypeKind::Int, b, a, Rep::I64);
      }
      case FuncId::Coalesce: {
        if (!arity(1, 64)) break;
        TypeKind t = common_type(e);
        Node n;
        n.op = Op::Coalesce;
        n.kind = t;
        n.rep = rep_of(t);
        n.operand_rep = n.rep;
        for (const auto& a : e.args) n.args.push_back(as_rep(compile(*a, t), n.rep));
        return add(std::move(n));
      }
      case FuncId::Min:
      case FuncId::Max: {
        if (!arity(1, 64)) break;
        TypeKind t = common_type(e);
        Rep r = rep_of(t);
        NodeId acc = as_rep(compile(*e.args[0], t), r);
        for (size_t i = 1; i < e.args.size(); ++i)
          acc = binary(f->id == FuncId::Min ? Op::Min : Op::Max, r, t, acc, as_rep(compile(*e.args[i], t), r), r);
        return acc;
      }
      case FuncId::Abs: {
        if (!arity(1, 1)) break;
        NodeId a = compile(*e.args[0], type_of(e));
        const Node& n = prog.nodes_[a];
        return unary(Op::Abs, n.rep, n.kind, a, n.rep);
      }
      case FuncId::Len: {
        if (!arity(1, 1)) break;
        const Expr& x = *e.args[0];
        if (type_of(x) == TypeKind::List) {
          const Expr* src = list_source(x);
          if (src->kind == Expr::Kind::List) {
            Node n;
            n.kind = TypeKind::Int;
            n.i64 = static_cast<int64_t>(src->args.size());
            return add(std::move(n));
          }
          if (is_list_column(*src)) {
            Node n;
            n.op = Op::LenColumn;
            n.kind = TypeKind::Int;
            n.column = column(list_column(*src));
            return add(std::move(n));
          }
          error(&x, "len() needs a list literal, a list attribute or a string");
          break;
        }
        return unary(Op::LenString, Rep::I64, TypeKind::Int, compile(x, TypeKind::String), Rep::I64);
      }
      case FuncId::HasTag:
      case FuncId::BoughtCategory: {
        // has_tag("x") is "x" in tags; bought_category("x") is "x" in categories.
        if (!arity(1, 1)) break;
        Node n;
        n.op = Op::InColumn;
        n.rep = Rep::B8;
        n.kind = TypeKind::Bool;
        n.a = compile(*e.args[0], TypeKind::String);
        n.column = column(f->id == FuncId::HasTag ? "tags" : "categories");
        return add(std::move(n));
      }
      case FuncId::PurchasesIn:
      case FuncId::SpentIn: {
        // A column of the frame per window ("purchases_in(30)"); the checker made DAYS a literal.
        if (!arity(1, 1) || e.args[0]->kind != Expr::Kind::Int) break;
        bool count = f->id == FuncId::PurchasesIn;
        Node n;
        n.op = count ? Op::LoadI64 : Op::LoadF64;
        n.rep = count ? Rep::I64 : Rep::F64;
        n.kind = count ? TypeKind::Int : TypeKind::Decimal;
        n.column = column(stdlib::window_column(f->name, e.args[0]->ival));
        return add(std::move(n));
      }
      case FuncId::Lower:
      case FuncId::Upper: {
        if (!arity(1, 1)) break;
        return unary(f->id == FuncId::Lower ? Op::Lower : Op::Upper, Rep::I64, TypeKind::String,
                     compile(*e.args[0], TypeKind::String), Rep::I64);
      }
      case FuncId::ExpectedPurchases:
      case FuncId::PredictedClv: {
        // A decimal column of the frame, named by the call (model_attributes.cpp fills it).
        std::string name = model_column_name(e);
        if (name.empty()) break;
        Node n;
        n.op = Op::LoadF64;
        n.rep = Rep::F64;
        n.kind = TypeKind::Decimal;
        n.column = column(name);
        return add(std::move(n));
      }
      case FuncId::Recommended:
        error(&e, "recommended(N) is a list: use it with `in`, len() or in a subject as {recommended}");
        break;
      case FuncId::Count_: break;
    }
    TypeKind t = type_of(e);
    return null_const(rep_of(t), t);
  }

  NodeId conjunction(const std::vector<const Expr*>& conditions) {
    NodeId acc = kNoNode;
    for (const Expr* c : conditions) {
      if (!c) continue;
      NodeId x = compile(*c, TypeKind::Bool);
      acc = acc == kNoNode ? x : binary(Op::And, Rep::B8, TypeKind::Bool, acc, x, Rep::B8);
    }
    return acc == kNoNode ? bool_const(true) : acc;
  }

  // A membership test in a list column with a constant, non-null needle, or its `not`: an And
  // can evaluate it for the rows that need it (Node::lazy).
  bool lazy_member(NodeId x) const {
    const auto& nodes = prog.nodes_;
    const Node* n = &nodes[x];
    if (n->op == Op::Not) n = &nodes[n->a];
    if (n->op != Op::InColumn || n->operand_rep != Rep::I64 || n->a == kNoNode) return false;
    const Node& needle = nodes[n->a];
    return needle.op == Op::Const && !needle.null_const && needle.rep == Rep::I64;
  }

  // Marks the Ands that short-circuit a membership operand (after hash-consing: Node::lazy is
  // not part of a node's key).
  void short_circuits() {
    for (Node& n : prog.nodes_)
      if (n.op == Op::And && n.a != n.b) n.lazy = lazy_member(n.b) ? n.b : lazy_member(n.a) ? n.a : kNoNode;
  }

  // A comparison the evaluator may run on a narrowed (int32) load: an int64 operand against a
  // non-null constant that fits in 32 bits, not ordered by text.
  bool narrow_compare(const Node& n) const {
    bool cmp = n.op == Op::Eq || n.op == Op::Ne || n.op == Op::Lt || n.op == Op::Le || n.op == Op::Gt || n.op == Op::Ge;
    if (!cmp || n.operand_rep != Rep::I64 || n.string_text || n.a == kNoNode || n.b == kNoNode) return false;
    const Node& c = prog.nodes_[n.b];
    return c.op == Op::Const && !c.null_const && !c.today && c.rep == Rep::I64 &&
           (c.string_index >= 0 || (c.i64 >= INT32_MIN && c.i64 <= INT32_MAX));
  }

  // Marks the loads that two or more such comparisons read (Node::narrow).
  void narrow_loads() {
    std::vector<int> uses(prog.nodes_.size(), 0);
    for (const Node& n : prog.nodes_)
      if (narrow_compare(n)) ++uses[n.a];
    for (NodeId id = 0; id < prog.nodes_.size(); ++id) {
      Node& n = prog.nodes_[id];
      n.narrow = n.op == Op::LoadI64 && uses[id] >= 2 &&
                 (n.kind == TypeKind::Int || n.kind == TypeKind::Date || n.kind == TypeKind::String);
    }
  }

  // Per node: every non-constant node it needs (itself included), in dependency order. An And's
  // lazy operand is left out (the And reads its column itself; the needle is a constant).
  void close() {
    short_circuits();
    narrow_loads();
    auto& nodes = prog.nodes_;
    prog.closures_.assign(nodes.size(), {});
    for (NodeId id = 0; id < nodes.size(); ++id) {
      std::vector<NodeId> merged;
      auto take = [&](NodeId x) {
        if (x == kNoNode) return;
        std::vector<NodeId> out;
        const auto& c = prog.closures_[x];
        std::set_union(merged.begin(), merged.end(), c.begin(), c.end(), std::back_inserter(out));
        merged.swap(out);
      };
      const Node& n = nodes[id];
      if (n.a != n.lazy) take(n.a);
      if (n.b != n.lazy) take(n.b);
      for (NodeId x : n.args) take(x);
      if (n.op != Op::Const) merged.push_back(id);
      prog.closures_[id] = std::move(merged);
    }
  }
};

ProgramBuilder::ProgramBuilder(lang::Diagnostics& diags, lang::SourcePtr file)
    : compiler_(std::make_unique<Compiler>(diags, std::move(file))) {}
ProgramBuilder::~ProgramBuilder() = default;

void ProgramBuilder::add_definition(const lang::Definition& d) { compiler_->prog.definitions_[d.name] = &d; }

NodeId ProgramBuilder::add_expression(const lang::Expr& e) {
  TypeKind t = compiler_->type_of(e);
  return compiler_->compile(e, t);
}

size_t ProgramBuilder::add_rule(const lang::FlatRule& r) {
  Compiler& m = *compiler_;
  lang::SourcePtr saved = m.file;
  if (r.file) m.file = r.file;
  CompiledRule cr;
  cr.name = r.name;
  cr.source = &r;
  cr.condition = m.conjunction(r.conditions);
  if (r.unless) cr.unless = m.compile(*r.unless, TypeKind::Bool);
  if (r.exit_when) cr.exit_when = m.compile(*r.exit_when, TypeKind::Bool);
  if (r.once_per) cr.once_per = add_expression(*r.once_per);
  if (r.actions)
    for (const lang::Action& a : *r.actions)
      cr.points.push_back(a.kind == lang::ActionKind::Points && a.points ? add_expression(*a.points) : kNoNode);
  m.file = saved;
  m.prog.rules_.push_back(std::move(cr));
  return m.prog.rules_.size() - 1;
}

size_t ProgramBuilder::add_rule(std::string name, const std::vector<const lang::Expr*>& conditions) {
  CompiledRule cr;
  cr.name = std::move(name);
  cr.condition = compiler_->conjunction(conditions);
  compiler_->prog.rules_.push_back(std::move(cr));
  return compiler_->prog.rules_.size() - 1;
}

void ProgramBuilder::add_subject_definition(const lang::Definition& d) {
  if (!d.expr || compiler_->prog.subject_nodes_.count(d.name)) return;
  NodeId n = add_expression(*d.expr);
  compiler_->prog.subject_nodes_[d.name] = n;
}

Program ProgramBuilder::finish() {
  compiler_->close();
  return std::move(compiler_->prog);
}

Program compile_program(const lang::CheckedProgram& program, lang::Diagnostics& diags) {
  ProgramBuilder b(diags);
  for (const lang::Definition* d : program.definitions)
    if (d) b.add_definition(*d);
  for (const lang::FlatRule& r : program.rules) b.add_rule(r);
  for (const lang::Message* m : program.messages) {
    if (!m || !m->subject) continue;
    for (const auto& p : lang::subject_placeholders(*m->subject))
      if (const lang::Definition* d = program.find_definition(p.name)) b.add_subject_definition(*d);
  }
  return b.finish();
}

}  // namespace crm::engine
