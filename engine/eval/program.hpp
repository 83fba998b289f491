// The compiled evaluator: checked rule conditions and value expressions compiled once into a
// flat list of vector instructions (compiler.cpp) and run over batches of Frame rows (program.cpp).
// Design, semantics and performance notes: docs/evaluator.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/frame/frame.hpp"
#include "lang/ast.hpp"
#include "lang/checker.hpp"
#include "lang/diagnostic.hpp"

namespace crm::engine {

// Rows per batch. 2048 amortizes the per-instruction dispatch while a rule's registers (16 KiB
// per int64 register, 2 KiB per bool one, plus validity) stay in the L2 cache; crm-bench measured
// 1024 at +17 % CPU time and 4096 no better.
constexpr size_t kBatchRows = 2048;

// A three-valued result per row (SQL logic): a rule fires only on True.
enum class Truth : uint8_t { False = 0, True = 1, Unknown = 2 };

// The physical representation of a register: int64 (int, bool columns, date = days,
// string = StringPool id), double (decimal) or one byte per row (bool results).
enum class Rep : uint8_t { I64, F64, B8 };

using NodeId = uint32_t;
constexpr NodeId kNoNode = UINT32_MAX;

// ------------------------------------------------------------------ the instruction set
// One row per opcode: (name, what it computes). Operands are other nodes (`a`, `b`, `args`).
#define CRM_EVAL_OPCODES(X)                                                           \
  X(LoadI64, "column (int, date, string id) -> zero-copy view")                       \
  X(LoadF64, "decimal column -> zero-copy view")                                      \
  X(LoadBool, "bool column (int64 0/1) -> bytes")                                     \
  X(LoadAny, "payload column of run-time type, read as `kind` (else null)")           \
  X(Const, "constant (broadcast once when an Evaluator binds the frame)")             \
  X(IntToDec, "int -> decimal")                                                       \
  X(Not, "three-valued not")                                                          \
  X(And, "three-valued and")                                                          \
  X(Or, "three-valued or")                                                            \
  X(IsNull, "a is null (never unknown)")                                              \
  X(IsNotNull, "a is not null (never unknown)")                                       \
  X(Eq, "a == b")                                                                     \
  X(Ne, "a != b")                                                                     \
  X(Lt, "a < b")                                                                      \
  X(Le, "a <= b")                                                                     \
  X(Gt, "a > b")                                                                      \
  X(Ge, "a >= b")                                                                     \
  X(Add, "a + b (int overflow -> null; decimal inf/nan -> null)")                     \
  X(Sub, "a - b")                                                                     \
  X(Mul, "a * b")                                                                     \
  X(Div, "a / b (division by zero -> null); int / int is decimal")                    \
  X(Mod, "a % b (by zero -> null)")                                                   \
  X(Neg, "-a")                                                                        \
  X(InConst, "a in [constants] (SQL: not found with a null in the list -> unknown)")  \
  X(InColumn, "a in list column")                                                     \
  X(LenColumn, "len(list column)")                                                    \
  X(LenString, "len(string) in code points")                                          \
  X(Year, "year(date)")                                                               \
  X(Month, "month(date)")                                                             \
  X(Day, "day(date)")                                                                 \
  X(Coalesce, "first non-null of args")                                               \
  X(Min, "min(a, b), null if either is null")                                         \
  X(Max, "max(a, b), null if either is null")                                         \
  X(Abs, "abs(a)")                                                                    \
  X(Lower, "lower(string), interned")                                                 \
  X(Upper, "upper(string), interned")

enum class Op : uint8_t {
#define CRM_X(name, doc) name,
  CRM_EVAL_OPCODES(CRM_X)
#undef CRM_X
};
const char* op_name(Op op);

// One vector instruction. Nodes are hash-consed: identical sub-expressions (of any rule or
// definition) are one node, computed at most once per batch.
struct Node {
  Op op = Op::Const;
  Rep rep = Rep::I64;             // the result's representation
  lang::TypeKind kind = lang::TypeKind::Int;  // the result's type (String: ids; Date: days)
  Rep operand_rep = Rep::I64;     // comparisons, arithmetic, in: the operands' representation
  bool string_text = false;       // comparisons: order strings by their text, not their id
  bool tags_dependent = false;    // reads the `tags` column (directly or through operands)
  NodeId a = kNoNode, b = kNoNode;
  std::vector<NodeId> args;       // Coalesce
  int32_t column = -1;            // Load*, InColumn, LenColumn: index into Program::columns
  // Const: `null_const`, else the value in i64 / f64, or `string_index` (bound at Evaluator setup).
  bool null_const = false;
  int64_t i64 = 0;
  double f64 = 0;
  int32_t string_index = -1;      // into Program::strings
  // InConst: the constants (as i64 or f64 by operand_rep; strings by index) and whether a null
  // is among them.
  std::vector<int64_t> list_i64;
  std::vector<double> list_f64;
  std::vector<int32_t> list_strings;
  bool list_has_null = false;
  bool today = false;             // Const: the frame's evaluation date (bound at setup)
  // And: the operand (a or b) that is a membership test with a constant needle (`"x" in tags`,
  // `not has_tag("x")`), evaluated by the And itself only for the rows where the other operand
  // is not FALSE (the per-row short-circuit of `&&`); it is not in the And's closure. kNoNode: none.
  NodeId lazy = kNoNode;
  // LoadI64 of an int, date or string column that several comparisons with 32-bit constants
  // read: the load also narrows the batch to int32 (when every value fits), and those
  // comparisons run on the narrow copy, twice the values per instruction.
  bool narrow = false;
};

// A value of one row, for explain and for value expressions (once per keys, points).
struct Value {
  enum class Kind : uint8_t { Null, Bool, Int, Decimal, String, Date, List };
  Kind kind = Kind::Null;
  int64_t i = 0;        // Bool 0/1, Int, Date (days), String (pool id)
  double d = 0;         // Decimal
  std::string text;     // String: the text
  std::vector<Value> list;

  bool is_null() const { return kind == Kind::Null; }
  // .crm spelling: true, false, null (or "unknown" for a null bool when `as_truth`), 42, 4.5,
  // "text", 2026-11-23, ["a", "b"].
  std::string to_string(bool as_truth = false) const;
};

// One sub-expression of a condition with its value for one row. A name that refers to a
// let/segment definition has that definition's expression as its only child.
struct Explanation {
  const lang::Expr* expr = nullptr;
  Value value;
  lang::TypeKind type = lang::TypeKind::Error;  // the static type (Bool: value Null = unknown)
  bool definition = false;                      // expr is a Name of a let/segment
  std::vector<Explanation> children;
};

// A rule after compilation: roots into the program's nodes.
struct CompiledRule {
  std::string name;                       // qualified, as FlatRule::name
  const lang::FlatRule* source = nullptr; // into the CheckedProgram (null for hand-built rules)
  NodeId condition = kNoNode;             // FlatRule::conditions ANDed (true when none)
  NodeId unless = kNoNode;                // journey step: skip when TRUE (kNoNode: none)
  NodeId exit_when = kNoNode;             // journey: the instance ends when TRUE
  NodeId once_per = kNoNode;              // `once per EXPR` key
  std::vector<NodeId> points;             // per action: `grant points EXPR`, else kNoNode
};

// A compiled program: immutable once built, so one Program can be shared by any number of
// threads, each evaluating with its own Evaluator. It keeps pointers to the lang::Expr nodes it
// was compiled from (for explain): the CheckedProgram must outlive it.
class Program {
 public:
  const std::vector<CompiledRule>& rules() const { return rules_; }
  // The let/segment definitions named by message subjects ({display_name}), by name: the run
  // engine renders them with Evaluator::value_at.
  const std::unordered_map<std::string, NodeId>& subject_nodes() const { return subject_nodes_; }
  const CompiledRule* find_rule(const std::string& name) const;
  // The attribute (column) names the frame must hold; the store computes only these.
  const std::vector<std::string>& required_columns() const { return columns_; }
  // The instructions (in dependency order: operands first) and string constants.
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<std::string>& strings() const { return strings_; }
  // The node computing an expression (kNoNode if it was not compiled).
  NodeId node_of(const lang::Expr* e) const;
  // True when some instruction creates strings (lower/upper), which interns into the frame's
  // StringPool during evaluation: see Evaluator's thread-safety note.
  bool interns_strings() const { return interns_strings_; }
  // A readable listing of the instructions, for debugging and docs.
  std::string dump() const;

 private:
  friend class ProgramBuilder;
  friend struct Compiler;
  friend class Evaluator;
  std::vector<Node> nodes_;
  std::vector<std::string> columns_;
  std::vector<std::string> strings_;
  std::vector<CompiledRule> rules_;
  std::unordered_map<const lang::Expr*, NodeId> expr_nodes_;
  std::unordered_map<std::string, const lang::Definition*> definitions_;
  std::unordered_map<std::string, NodeId> subject_nodes_;
  std::vector<std::vector<NodeId>> closures_;  // per node: the non-constant nodes it needs, in order
  bool interns_strings_ = false;
};

// Compiles checked expressions into a Program's nodes (compiler.cpp; ProgramBuilder's engine).
struct Compiler;

// Builds a Program from checked expressions (typed by the checker: Expr::type must be set).
// Constructs the checker cannot produce, or the evaluator does not support, are reported to
// `diags` (code::compile) and compile to a null constant. Not thread-safe; single use.
class ProgramBuilder {
 public:
  explicit ProgramBuilder(lang::Diagnostics& diags, lang::SourcePtr file = nullptr);
  ~ProgramBuilder();
  // Makes let/segment definitions visible to names in expressions (by Definition::name).
  void add_definition(const lang::Definition& d);
  // Compiles one expression; the returned node's value is read with Evaluator::values/truth.
  NodeId add_expression(const lang::Expr& e);
  // Compiles definition `d` for rendering in subjects (Program::subject_nodes).
  void add_subject_definition(const lang::Definition& d);
  // Compiles one rule's condition, unless, exit_when, once per key and points amounts.
  size_t add_rule(const lang::FlatRule& r);
  // Adds a hand-made rule (tests, benchmarks): `condition` ANDed together.
  size_t add_rule(std::string name, const std::vector<const lang::Expr*>& conditions);
  Program finish();

 private:
  std::unique_ptr<Compiler> compiler_;  // compiler.cpp
};

// Compiles every rule of a checked program (in declaration order; Program::rules()[i] is
// CheckedProgram::rules[i]).
Program compile_program(const lang::CheckedProgram& program, lang::Diagnostics& diags);

// Evaluates a Program over one Frame, a batch of rows at a time. Owns the registers (scratch
// state): one Evaluator per thread. Not thread-safe itself.
//
// Step-wise use by the run engine, which applies each rule's actions before the next rule:
//   Evaluator ev(program, frame);
//   for (size_t b = 0; b < frame.rows; b += kBatchRows) {
//     ev.set_batch(b, std::min(frame.rows, b + kBatchRows));
//     for (size_t r : rule_order) { const Truth* t = ev.condition(r); ... apply actions ... }
//   }
// Each instruction runs at most once per batch and is shared by every rule that needs it
// (definitions, and any identical sub-expression). Instructions that read `tags` are rerun on
// every call, so a runner that writes tags into frame.columns["tags"] between two rules is seen
// by the later rule. The runner may modify any Column in place (assign, push_back) between calls
// but must not erase or insert map entries of frame.columns while an Evaluator is bound.
//
// Binding interns the program's string constants into frame.strings; lower/upper intern
// during evaluation. Several Evaluators may share a frame from several threads only when
// !program.interns_strings() and the first binding is done before the threads start (later
// bindings then only find existing strings).
class Evaluator {
 public:
  Evaluator(const Program& program, const Frame& frame);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Binds another frame (the next day's, or one customer's for an event) without reallocating
  // registers unless it has more rows than any frame bound before. Same rules as the constructor.
  void bind(const Frame& frame);
  // Binds the bound frame again after its contents (and `today`, and its row count) changed but
  // not its set of columns (every Column is the same object) nor its string pool: refreshes the
  // constants that depend on today and forgets what was computed. Cheaper than bind() (no
  // lookups by name); falls back to it when the pool changed or the registers must grow.
  void rebind_contents();

  // Selects rows [begin, end) of the frame; end - begin <= kBatchRows (and <= the rows of the
  // largest frame bound so far). Throws std::out_of_range otherwise (a caller bug).
  void set_batch(size_t begin, size_t end);
  size_t batch_begin() const { return begin_; }
  size_t batch_size() const { return n_; }
  // Instructions executed so far (tests count the work: shared nodes run once per batch).
  uint64_t executed() const;

  // Rule i's condition for every row of the batch (Truth per row). The pointer is valid until
  // the next call of any evaluating member.
  const Truth* condition(size_t rule);
  // Any bool node's truth per row (a rule's unless or exit_when).
  const Truth* truth(NodeId node);

  // Any node's values for the batch: rep says which array is set; valid[i] == 0 is null.
  struct Values {
    Rep rep = Rep::I64;
    lang::TypeKind kind = lang::TypeKind::Int;
    const int64_t* i64 = nullptr;
    const double* f64 = nullptr;
    const uint8_t* b8 = nullptr;
    const uint8_t* valid = nullptr;
  };
  Values values(NodeId node);
  // Like values(), but reuses what the last condition/truth/values call computed (tags as they
  // were then), as value_at does: for reading a node once per batch instead of once per row.
  Values current_values(NodeId node);
  // One row's value of a node (i < batch_size()). Cheap to call per row: it reuses what the
  // last condition/truth/values call computed (tags as they were then).
  Value value_at(NodeId node, size_t i);

  // The value of every sub-expression of `e` (compiled into the program) for frame row `row`.
  // Changes the current batch.
  Explanation explain(const lang::Expr& e, size_t row);
  // Explains every condition of rule i (then unless and exit_when, if any) for `row`.
  std::vector<Explanation> explain_rule(size_t rule, size_t row);

 private:
  struct Regs;
  // Computes `node` and what it needs; `fresh` recomputes the nodes that read tags.
  void run(NodeId node, bool fresh = true);
  void exec(NodeId id);
  Explanation explain_node(const lang::Expr& e, size_t i);

  const Program& program_;
  const Frame* frame_;
  const StringPool* bound_pool_ = nullptr;  // frame_->strings when bound
  size_t begin_ = 0, n_ = 0;
  size_t capacity_ = 0;  // rows per register: min(kBatchRows, the largest bound frame's rows)
  std::unique_ptr<Regs> regs_;
};

// The pure value of a Frame column for one row (explain and tests).
Value column_value(const Frame& frame, const engine::Column& col, size_t row);

}  // namespace crm::engine
