// crm check FILE...: parse, type-check and lint; prints diagnostics, exit 1 on any error.
#include <fmt/core.h>

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "lang/builtins.hpp"

namespace crm::cli {

int cmd_check(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm check FILE... [--db STORE] [--dump-ast]\n"
      "       crm check --list-builtins\n\n"
      "Parses, type-checks and lints .crm files and everything they import.\n"
      "Prints diagnostics like a compiler (file:line:col: error: ...), then a summary.\n\n"
      "Options:\n"
      "  --db STORE   also accept the extra columns of the store's customers table as attributes\n"
      "  --dump-ast   print the syntax tree of each file (a debugging aid)\n"
      "  --list-builtins\n"
      "               print the reference of every built-in attribute and function (Markdown,\n"
      "               from lang/builtins.def); docs/builtins.md is this output\n"
      "  --help       show this help\n\n"
      "Exit codes: 0 no errors (warnings allowed), 1 errors, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--dump-ast", "--list-builtins"}, {"--db"}}, error);
  if (!args) return usage_error("check", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->flag("--list-builtins")) {
    if (!args->positional.empty()) return usage_error("check", "--list-builtins takes no files");
    fmt::print("{}", stdlib::builtins_markdown());
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("check", "no input files");
  LoadedScript script = load_script(args->positional, args->option("--db"));
  if (args->flag("--dump-ast")) print_ast(script);
  print_diagnostics(script.diags);
  size_t errors = script.diags.error_count(), warnings = script.diags.warning_count();
  if (errors == 0)
    fmt::print(stderr, "{} file(s) checked: no errors{}\n", args->positional.size(),
               warnings ? fmt::format(", {} warning(s)", warnings) : "");
  else
    fmt::print(stderr, "{} error(s), {} warning(s)\n", errors, warnings);
  return errors ? kExitError : kExitOk;
}

}  // namespace crm::cli
