// One compiled script: the compile pipeline (check -> rule graph -> compile) written once, for
// the CLI, the embedding API and the in-language test runner, and the stdlib search path.
#pragma once
#include <string>
#include <vector>

#include "engine/eval/program.hpp"
#include "engine/graph/rule_graph.hpp"
#include "lang/checker.hpp"
#include "lang/diagnostic.hpp"
#include "lang/parser.hpp"

namespace crm::engine {

// What a Runner needs of a script: the checked program, its rule graph and the compiled
// program. Movable (the graph points into the program's vectors, which a move keeps).
struct CompiledScript {
  lang::CheckedProgram program;
  RuleGraph graph;
  Program compiled;
};

// Where `import "std/NAME"` looks: `first` (callers' own folders), $CRM_STDLIB,
// `binary_relative` (the CLI's <exe>/../share/crm/stdlib, the library's
// <libdir>/../share/crm/stdlib; skipped when empty), the install prefix, then the source tree.
std::vector<std::string> stdlib_search_path(const std::string& binary_relative,
                                            std::vector<std::string> first = {});

// Checks `paths` (or already-parsed `modules`, in import order), builds the rule graph and
// compiles, each step only when the one before had no errors. The diagnostics are sorted;
// the result is usable only when !diags.has_errors().
CompiledScript compile_script(const std::vector<std::string>& paths, const lang::CheckOptions& options,
                              lang::Diagnostics& diags);
CompiledScript compile_script(std::vector<lang::Module> modules, const lang::CheckOptions& options,
                              lang::Diagnostics& diags);

}  // namespace crm::engine
