// crm graph FILE: prints the rule graph as Graphviz DOT (definitions, rules, journeys, edges).
#include <fmt/core.h>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace crm::cli {

int cmd_graph(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm graph FILE... [--db STORE]\n\n"
      "Prints the rule graph of a script as Graphviz DOT: definitions (ellipses), rules (boxes),\n"
      "journeys (clusters), and the edges that order evaluation: 'uses' (dashed), tags a rule\n"
      "writes and another reads (bold), 'after', and journey steps.\n\n"
      "Example:\n  crm graph examples/campaigns/playbook.crm | dot -Tsvg > graph.svg\n\n"
      "Options:\n"
      "  --db STORE   accept the extra columns of the store's customers table as attributes\n"
      "  --help       show this help\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db"}}, error);
  if (!args) return usage_error("graph", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("graph", "no input file");
  LoadedScript script = load_script(args->positional, args->option("--db"));
  print_diagnostics(script.diags);
  if (!script.ok()) return kExitError;
  fmt::print("{}", engine::to_dot(script.graph));
  return kExitOk;
}

}  // namespace crm::cli
