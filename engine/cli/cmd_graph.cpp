// crm graph FILE: prints the rule graph as Graphviz DOT (definitions, rules, journeys, edges);
// with --program, the compiled program's instructions instead (engine/program_dump.hpp).
#include <fmt/core.h>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/eval/program.hpp"
#include "engine/eval/program_dump.hpp"

namespace crm::cli {

int cmd_graph(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm graph FILE... [--db STORE] [--program]\n\n"
      "Prints the rule graph of a script as Graphviz DOT: definitions (ellipses), rules (boxes),\n"
      "journeys (clusters), and the edges that order evaluation: 'uses' (dashed), tags a rule\n"
      "writes and another reads (bold), 'after', and journey steps.\n\n"
      "Example:\n  crm graph examples/campaigns/playbook.crm | dot -Tsvg > graph.svg\n\n"
      "Options:\n"
      "  --program    print the compiled program instead, as a disassembler does: per definition\n"
      "               and rule, the evaluator's instructions with their operands, the columns\n"
      "               they read and the expression each computes (a debugging aid)\n"
      "  --db STORE   accept the extra columns of the store's customers table as attributes\n"
      "  --help       show this help\n";
  std::string error;
  auto args = parse_args(argv, {{"--program"}, {"--db"}}, error);
  if (!args) return usage_error("graph", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("graph", "no input file");
  LoadedScript script = load_script(args->positional, args->option("--db"));
  print_diagnostics(script.diags);
  if (!script.ok()) return kExitError;
  if (args->flag("--program")) {  // compiled by load_script (engine::compile_script)
    fmt::print("{}", engine::disassemble(script.compiled, &script.program));
    return kExitOk;
  }
  fmt::print("{}", engine::to_dot(script.graph));
  return kExitOk;
}

}  // namespace crm::cli
