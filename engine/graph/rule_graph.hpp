// The rule graph (SPEC §6.2): nodes for definitions and rules; edges for "uses definition",
// "reads a tag that A writes", `after`, and journey step order. Built with Boost.Graph
// (this is the only file that includes it); gives the evaluation order and Graphviz DOT.
#pragma once
#include <string>
#include <vector>

#include "lang/checker.hpp"
#include "lang/diagnostic.hpp"

namespace crm::engine {

struct RuleGraph {
  enum class NodeKind { Definition, Rule };
  struct Node {
    NodeKind kind;
    std::string name;                          // definition name or qualified rule name
    const lang::Definition* definition = nullptr;
    const lang::FlatRule* rule = nullptr;
    size_t rule_index = 0;                     // index into CheckedProgram::rules for rules
  };
  enum class EdgeKind { UsesDefinition, Tag, After, JourneyStep };
  struct Edge {
    size_t from, to;  // node indexes
    EdgeKind kind;
    std::string label;  // "uses", "tag vip", "after", "after 3 days", "day 7"
  };
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  // Rules in evaluation order (indexes into CheckedProgram::rules): every rule after the
  // rules it depends on; ties broken by declaration order. Empty when there is a cycle.
  std::vector<size_t> rule_order;
};

// Builds the graph; a cycle among rules is an error (code::rule_cycle) that names the rules on
// it: "rule cycle: a -> b -> a". A rule that reads a tag it writes itself is not a cycle (it
// sees the tag as it was before it ran).
RuleGraph build_rule_graph(const lang::CheckedProgram& program, lang::Diagnostics& diags);

// Graphviz DOT: definitions as ellipses, rules as boxes, journeys as clusters.
std::string to_dot(const RuleGraph& graph);

}  // namespace crm::engine
