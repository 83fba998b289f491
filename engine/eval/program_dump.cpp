// The disassembler of compiled programs (program_dump.hpp): one section per definition and
// rule listing the instructions it needs (stopping at definitions, which are operands like
// columns), operands as `%N`, `%N(definition)` or inline constants.
#include "engine/eval/program_dump.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "lang/date.hpp"
#include "lang/formatter.hpp"

namespace crm::engine {

namespace {

constexpr size_t kCommentWidth = 60;

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

// A decimal constant as written in a script: 100000.0, 0.01 (scientific only when far from 1).
std::string decimal(double d) {
  char buf[400];
  double a = std::fabs(d);
  auto format = a == 0 || (a >= 1e-6 && a < 1e15) ? std::chars_format::fixed : std::chars_format::general;
  auto res = std::to_chars(buf, buf + sizeof buf, d, format);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

class Disassembler {
 public:
  Disassembler(const Program& p, const lang::CheckedProgram* src) : p_(p), nodes_(p.nodes()), src_(src) {}

  std::string run() {
    header();
    if (src_) {
      for (const lang::Definition* d : src_->definitions)
        if (d && d->expr) comments(d->expr.get());
      for (const lang::FlatRule& r : src_->rules) {
        for (const lang::Expr* c : r.conditions) comments(c);
        comments(r.unless);
        comments(r.exit_when);
        comments(r.once_per);
        if (r.actions)
          for (const lang::Action& a : *r.actions) comments(a.points.get());
      }
      std::vector<std::string> unused;
      for (const lang::Definition* d : src_->definitions) {
        if (!d || !d->expr) continue;
        NodeId root = p_.node_of(d->expr.get());
        if (root == kNoNode) unused.push_back(d->name);
        else if (nodes_[root].op != Op::Const) def_roots_.emplace(root, d->name);
      }
      if (!unused.empty()) out_ += fmt::format("; not compiled (used by no rule): {}\n", fmt::join(unused, ", "));
      for (const lang::Definition* d : src_->definitions) {
        NodeId root = d && d->expr ? p_.node_of(d->expr.get()) : kNoNode;
        if (root == kNoNode) continue;
        out_ += fmt::format("\n== {} {} ==\n", d->segment ? "segment" : "let", d->name);
        list(closure({root}, root));
        out_ += fmt::format("  value: {}\n", operand(root, false));
      }
    }
    for (const CompiledRule& r : p_.rules()) {
      std::string on = r.source && !r.source->event.empty() ? " (on " + r.source->event + ")" : "";
      out_ += fmt::format("\n== rule {}{} ==\n", r.name, on);
      std::vector<NodeId> roots = {r.condition, r.unless, r.exit_when, r.once_per};
      roots.insert(roots.end(), r.points.begin(), r.points.end());
      list(closure(roots, kNoNode));
      root_line("condition", r.condition);
      root_line("unless", r.unless);
      root_line("exit when", r.exit_when);
      root_line("once per", r.once_per);
      for (size_t i = 0; i < r.points.size(); ++i)
        root_line(fmt::format("points of action {}", i + 1), r.points[i]);
    }
    return std::move(out_);
  }

 private:
  void header() {
    size_t constants = 0;
    for (const Node& n : nodes_) constants += n.op == Op::Const;
    out_ += fmt::format("; {} instructions and {} constants; {} rules\n", nodes_.size() - constants, constants,
                        p_.rules().size());
    out_ += "; columns:";
    for (size_t i = 0; i < p_.required_columns().size(); ++i) out_ += (i ? ", " : " ") + p_.required_columns()[i];
    out_ += p_.required_columns().empty() ? " (none)\n" : "\n";
    if (!p_.strings().empty()) {
      out_ += "; strings:";
      for (size_t i = 0; i < p_.strings().size(); ++i) out_ += (i ? ", " : " ") + quoted(p_.strings()[i]);
      out_ += "\n";
    }
  }

  // The first expression compiled to each node, in canonical .crm spelling.
  void comments(const lang::Expr* e) {
    if (!e) return;
    NodeId id = p_.node_of(e);
    if (id != kNoNode && !comment_.count(id)) {
      std::string text = lang::format_expr(*e);
      if (text.size() > kCommentWidth) text = text.substr(0, kCommentWidth - 3) + "...";
      comment_.emplace(id, std::move(text));
    }
    for (const auto& a : e->args) comments(a.get());
  }

  // The non-constant instructions the roots need, in execution (id) order. A definition is an
  // operand like a column: the walk does not enter its instructions (but those of `self`).
  std::vector<NodeId> closure(const std::vector<NodeId>& roots, NodeId self) const {
    std::vector<bool> seen(nodes_.size(), false);
    std::vector<NodeId> stack;
    for (NodeId r : roots)
      if (r != kNoNode) stack.push_back(r);
    while (!stack.empty()) {
      NodeId id = stack.back();
      stack.pop_back();
      if (seen[id] || (id != self && def_roots_.count(id))) continue;
      seen[id] = true;
      const Node& n = nodes_[id];
      if (n.a != kNoNode) stack.push_back(n.a);
      if (n.b != kNoNode) stack.push_back(n.b);
      for (NodeId x : n.args) stack.push_back(x);
    }
    std::vector<NodeId> out;
    for (NodeId id = 0; id < nodes_.size(); ++id)
      if (seen[id] && nodes_[id].op != Op::Const) out.push_back(id);
    return out;
  }

  void list(const std::vector<NodeId>& ids) {
    for (NodeId id : ids) instruction(id);
  }

  std::string const_text(const Node& n) const {
    if (n.null_const) return "null";
    if (n.today) return "today";
    if (n.string_index >= 0) return quoted(p_.strings()[static_cast<size_t>(n.string_index)]);
    switch (n.kind) {
      case lang::TypeKind::Bool: return n.i64 ? "true" : "false";
      case lang::TypeKind::Date: return format_date(static_cast<Days>(n.i64));
      case lang::TypeKind::Decimal: return decimal(n.f64);
      default: return n.rep == Rep::F64 ? decimal(n.f64) : fmt::format("{}", n.i64);
    }
  }

  std::string operand(NodeId id, bool name_definitions = true) const {
    const Node& n = nodes_[id];
    if (n.op == Op::Const) return const_text(n);
    auto d = def_roots_.find(id);
    if (name_definitions && d != def_roots_.end()) return fmt::format("%{}({})", id, d->second);
    return fmt::format("%{}", id);
  }

  std::string column(const Node& n) const { return p_.required_columns()[static_cast<size_t>(n.column)]; }

  std::string in_list(const Node& n) const {
    std::vector<std::string> items;
    for (int64_t v : n.list_i64)
      items.push_back(n.kind == lang::TypeKind::Date || nodes_[n.a].kind == lang::TypeKind::Date
                          ? format_date(static_cast<Days>(v))
                          : fmt::format("{}", v));
    for (double v : n.list_f64) items.push_back(decimal(v));
    for (int32_t s : n.list_strings) items.push_back(quoted(p_.strings()[static_cast<size_t>(s)]));
    if (n.list_has_null) items.push_back("null");
    return fmt::format("[{}]", fmt::join(items, ", "));
  }

  void instruction(NodeId id) {
    const Node& n = nodes_[id];
    std::vector<std::string> ops;
    if (n.a != kNoNode) ops.push_back(operand(n.a));
    if (n.b != kNoNode) ops.push_back(operand(n.b));
    for (NodeId x : n.args) ops.push_back(operand(x));
    if (n.column >= 0) ops.push_back(column(n));
    if (n.op == Op::InConst) ops.push_back(in_list(n));
    std::string text = fmt::format("{}", fmt::join(ops, ", "));
    if (n.string_text) text += " by text";
    if (n.tags_dependent) text += " (reads tags)";
    std::string line = fmt::format("  {:>5}  {:<10} {:<8} {}", fmt::format("%{}", id), op_name(n.op),
                                   lang::kind_name(n.kind), text);
    if (auto c = comment_.find(id); c != comment_.end()) {
      if (line.size() < 58) line.append(58 - line.size(), ' ');
      line += "  ; " + c->second;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out_ += line + "\n";
  }

  void root_line(const std::string& what, NodeId id) {
    if (id == kNoNode) return;
    out_ += fmt::format("  {}: {}\n", what, operand(id));
  }

  const Program& p_;
  const std::vector<Node>& nodes_;
  const lang::CheckedProgram* src_;
  std::unordered_map<NodeId, std::string> comment_;
  std::unordered_map<NodeId, std::string> def_roots_;
  std::string out_;
};

}  // namespace

std::string disassemble(const Program& program, const lang::CheckedProgram* source) {
  return Disassembler(program, source).run();
}

}  // namespace crm::engine
