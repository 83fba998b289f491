// The rule graph with Boost.Graph: edge construction, cycle detection by depth-first search
// (a back edge closes a cycle, printed from the DFS path), and a stable topological order.
#include "engine/graph/rule_graph.hpp"

#include <fmt/format.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "lang/diagnostic_codes.hpp"

namespace crm::engine {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

// Collects the names an expression reads (for definition -> definition edges).
void collect_names(const lang::Expr* e, std::vector<std::string>& out) {
  if (!e) return;
  if (e->kind == lang::Expr::Kind::Name) out.push_back(e->text);
  for (const auto& a : e->args) collect_names(a.get(), out);
}

// Records the first back edge found; the DFS stack (tree-edge parents) gives the cycle.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<Vertex>* parent;
  std::vector<Vertex>* cycle;
  void tree_edge(boost::graph_traits<Graph>::edge_descriptor e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(boost::graph_traits<Graph>::edge_descriptor e, const Graph& g) const {
    if (!cycle->empty()) return;
    Vertex u = boost::source(e, g), v = boost::target(e, g);
    std::vector<Vertex> path{u};
    for (Vertex w = u; w != v;) {
      w = (*parent)[w];
      path.push_back(w);
    }
    std::reverse(path.begin(), path.end());  // v ... u
    path.push_back(v);
    *cycle = path;
  }
};

}  // namespace

RuleGraph build_rule_graph(const lang::CheckedProgram& program, lang::Diagnostics& diags) {
  RuleGraph g;
  std::map<std::string, size_t> def_node, rule_node;
  for (const auto* d : program.definitions) {
    def_node[d->name] = g.nodes.size();
    g.nodes.push_back({RuleGraph::NodeKind::Definition, d->name, d, nullptr, 0});
  }
  const size_t rule_base = g.nodes.size();  // rule i is node rule_base + i
  for (size_t i = 0; i < program.rules.size(); ++i) {
    const auto& r = program.rules[i];
    rule_node.emplace(r.name, g.nodes.size());  // duplicate names (a warning) keep the first
    g.nodes.push_back({RuleGraph::NodeKind::Rule, r.name, nullptr, &r, i});
  }
  std::set<std::tuple<size_t, size_t, int, std::string>> seen;
  auto add_edge = [&](size_t from, size_t to, RuleGraph::EdgeKind kind, std::string label) {
    if (from == to) return;
    if (!seen.insert({from, to, static_cast<int>(kind), label}).second) return;
    g.edges.push_back({from, to, kind, std::move(label)});
  };
  // definition -> definition
  for (const auto* d : program.definitions) {
    std::vector<std::string> names;
    collect_names(d->expr.get(), names);
    for (const auto& n : names)
      if (auto it = def_node.find(n); it != def_node.end()) add_edge(it->second, def_node[d->name], RuleGraph::EdgeKind::UsesDefinition, "uses");
  }
  // tag writers, for "reads a tag that A writes"
  std::map<std::string, std::vector<size_t>> writers;
  for (size_t i = 0; i < program.rules.size(); ++i)
    for (const auto& t : program.rules[i].writes_tags) writers[t].push_back(i);
  // journey steps by journey, for step order
  std::map<const lang::Journey*, std::vector<size_t>> steps;
  for (size_t i = 0; i < program.rules.size(); ++i) {
    const auto& r = program.rules[i];
    size_t self = rule_base + i;
    for (const auto& d : r.uses_definitions)
      if (auto it = def_node.find(d); it != def_node.end()) add_edge(it->second, self, RuleGraph::EdgeKind::UsesDefinition, "uses");
    for (const auto& t : r.reads_tags)  // includes tags read through definitions
      if (auto it = writers.find(t); it != writers.end())
        for (size_t w : it->second)
          add_edge(rule_base + w, self, RuleGraph::EdgeKind::Tag, "tag " + t);
    for (const auto& a : r.after)
      if (auto it = rule_node.find(a.rule); it != rule_node.end())
        add_edge(it->second, self, RuleGraph::EdgeKind::After, a.days >= 0 ? fmt::format("after {} days", a.days) : "after");
    if (r.journey) steps[r.journey].push_back(i);
  }
  for (auto& [journey, idx] : steps) {
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      return program.rules[a].journey_day < program.rules[b].journey_day;
    });
    for (size_t k = 1; k < idx.size(); ++k)
      add_edge(rule_base + idx[k - 1], rule_base + idx[k], RuleGraph::EdgeKind::JourneyStep,
               fmt::format("day {}", program.rules[idx[k]].journey_day));
  }

  // Boost graph over all nodes; find a cycle by DFS.
  Graph bg(g.nodes.size());
  for (const auto& e : g.edges) boost::add_edge(e.from, e.to, bg);
  std::vector<Vertex> parent(g.nodes.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  std::vector<Vertex> cycle;
  CycleFinder finder;
  finder.parent = &parent;
  finder.cycle = &cycle;
  std::vector<boost::default_color_type> colors(g.nodes.size());
  boost::depth_first_search(bg, boost::visitor(finder).color_map(boost::make_iterator_property_map(
                                    colors.begin(), boost::get(boost::vertex_index, bg))));
  if (!cycle.empty()) {
    std::string text;
    for (size_t k = 0; k < cycle.size(); ++k) text += (k ? " -> " : "") + g.nodes[cycle[k]].name;
    const auto& first = g.nodes[cycle.front()];
    auto& d = diags.error(first.rule ? first.rule->file : nullptr, first.rule ? first.rule->name_span : lang::Span{},
                          lang::code::rule_cycle, "rule cycle: " + text,
                          "rules are evaluated in graph order; break the cycle by removing an 'after' or a tag dependency");
    for (size_t k = 1; k + 1 < cycle.size(); ++k) {
      const auto& n = g.nodes[cycle[k]];
      if (n.rule) d.notes.push_back({n.rule->file, n.rule->name_span, "'" + n.name + "' is on the cycle"});
    }
    return g;
  }

  // Stable topological order of the rules (Kahn's algorithm, smallest declaration index first).
  std::vector<size_t> indegree(g.nodes.size(), 0);
  for (const auto& e : g.edges) ++indegree[e.to];
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t v = 0; v < g.nodes.size(); ++v)
    if (indegree[v] == 0) ready.push(v);
  std::vector<std::vector<size_t>> out(g.nodes.size());
  for (const auto& e : g.edges) out[e.from].push_back(e.to);
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    if (g.nodes[v].kind == RuleGraph::NodeKind::Rule) g.rule_order.push_back(g.nodes[v].rule_index);
    for (size_t w : out[v])
      if (--indegree[w] == 0) ready.push(w);
  }
  return g;
}

namespace {
std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
std::string node_id(const RuleGraph::Node& n) {
  return (n.kind == RuleGraph::NodeKind::Definition ? "def:" : "rule:") + n.name;
}
}  // namespace

std::string to_dot(const RuleGraph& g) {
  std::string out = "digraph crm {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::map<const lang::Journey*, std::vector<size_t>> clusters;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    if (n.kind == RuleGraph::NodeKind::Rule && n.rule->journey) {
      clusters[n.rule->journey].push_back(i);
      continue;
    }
    if (n.kind == RuleGraph::NodeKind::Definition)
      out += fmt::format("  \"{}\" [shape=ellipse, label=\"{} {}\"];\n", dot_escape(node_id(n)),
                         n.definition->segment ? "segment" : "let", dot_escape(n.name));
    else {
      std::string label = n.name;
      if (!n.rule->event.empty()) label += "\\non " + n.rule->event;
      out += fmt::format("  \"{}\" [shape=box, label=\"{}\"];\n", dot_escape(node_id(n)), dot_escape(label));
    }
  }
  int k = 0;
  for (const auto& [journey, idx] : clusters) {
    std::string name = g.nodes[idx.front()].rule->name;
    name = name.substr(0, name.rfind('.'));
    out += fmt::format("  subgraph cluster_{} {{\n    label=\"journey {}\";\n    style=rounded;\n", k++, dot_escape(name));
    for (size_t i : idx)
      out += fmt::format("    \"{}\" [shape=box, label=\"day {}\"];\n", dot_escape(node_id(g.nodes[i])),
                         g.nodes[i].rule->journey_day);
    out += "  }\n";
  }
  for (const auto& e : g.edges) {
    const char* style = e.kind == RuleGraph::EdgeKind::UsesDefinition ? "dashed"
                        : e.kind == RuleGraph::EdgeKind::Tag          ? "bold"
                                                                      : "solid";
    out += fmt::format("  \"{}\" -> \"{}\" [style={}, label=\"{}\"];\n", dot_escape(node_id(g.nodes[e.from])),
                       dot_escape(node_id(g.nodes[e.to])), style, dot_escape(e.label));
  }
  out += "}\n";
  return out;
}

}  // namespace crm::engine
