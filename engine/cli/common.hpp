// What the subcommands share: loading and checking a script (with its rule graph), finding
// the stdlib, and printing diagnostics to the terminal.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "engine/eval/compiled_script.hpp"
#include "lang/date.hpp"
#include "lang/checker.hpp"
#include "lang/diagnostic.hpp"

namespace crm::cli {

// A compiled script (checked program, rule graph, program) with its diagnostics.
struct LoadedScript : engine::CompiledScript {
  lang::Diagnostics diags;
  bool ok() const { return !diags.has_errors(); }
};

// Where `import "std/NAME"` looks: $CRM_STDLIB, <exe>/../share/crm/stdlib, the install prefix,
// then the source tree (engine::stdlib_search_path).
std::vector<std::string> stdlib_dirs();

// Compiles `paths` (engine::compile_script: check with the extra customer columns of `db`
// when given, rule graph, program). Diagnostics are sorted.
LoadedScript load_script(const std::vector<std::string>& paths, const std::optional<std::string>& db,
                         std::vector<lang::CheckOptions::Extra> extra = {});

// Prints diagnostics to stderr (coloured on a terminal unless NO_COLOR is set).
void print_diagnostics(const lang::Diagnostics& diags);

// Prints the syntax tree of every module (crm check --dump-ast).
void print_ast(const LoadedScript& script);

// Reads option `name` (--date, --from, --to) as a YYYY-MM-DD date into `out`, which stays
// unset when the option is absent. Returns false with `error` set when it is malformed.
// The store location as printed: a postgresql:// URI without its password.
std::string shown_location(const std::string& db);

bool date_option(const Args& args, const std::string& name, std::optional<Days>& out, std::string& error);

}  // namespace crm::cli
