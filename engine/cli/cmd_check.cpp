// crm check FILE...: parse, type-check and lint; prints diagnostics, exit 1 on any error.
// crm check --explain CODE / --list-codes: the table of diagnostic codes (lang/diagnostic_codes.def).
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/builtins.hpp"

namespace crm::cli {

namespace {

int list_codes() {
  size_t width = 0;
  for (const auto& c : lang::diagnostic_codes()) width = std::max(width, std::string_view(c.code).size());
  for (const auto& c : lang::diagnostic_codes())
    fmt::print("{:<{}}  {:<7}  {}\n", c.code, width, c.severity == lang::Severity::Warning ? "warning" : "error",
               c.title);
  return kExitOk;
}

int explain_code(const std::string& name) {
  if (const auto* c = lang::find_diagnostic_code(name)) {
    fmt::print("{}", lang::explain_diagnostic_code(*c));
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& c : lang::diagnostic_codes()) names.emplace_back(c.code);
  std::string best = lang::closest_match(name, names);
  fmt::print(stderr, "crm check: unknown diagnostic code '{}'\nhelp: {}\n", name,
             best.empty() ? std::string("'crm check --list-codes' lists every code")
                          : fmt::format("did you mean '{}'? ('crm check --list-codes' lists every code)", best));
  return kExitUsage;
}

}  // namespace

int cmd_check(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm check FILE... [--db STORE] [--dump-ast]\n"
      "       crm check --list-builtins\n"
      "       crm check --explain CODE | --list-codes\n\n"
      "Parses, type-checks and lints .crm files and everything they import.\n"
      "Prints diagnostics like a compiler (file:line:col: error: ...), then a summary.\n\n"
      "Options:\n"
      "  --db STORE   also accept the extra columns of the store's customers table as attributes\n"
      "  --dump-ast   print the syntax tree of each file (a debugging aid)\n"
      "  --list-builtins\n"
      "               print the reference of every built-in attribute and function (Markdown,\n"
      "               from lang/builtins.def); docs/builtins.md is this output\n"
      "  --explain CODE\n"
      "               explain a diagnostic code (E-unknown-name, W-never-fires, ...): what\n"
      "               triggers it, a script that gets it, and how to fix it\n"
      "  --list-codes print every diagnostic code with its severity and title\n"
      "  --help       show this help\n\n"
      "Exit codes: 0 no errors (warnings allowed), 1 errors, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--dump-ast", "--list-builtins", "--list-codes"}, {"--db", "--explain"}}, error);
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
  if (args->flag("--list-codes")) {
    if (!args->positional.empty()) return usage_error("check", "--list-codes takes no files");
    return list_codes();
  }
  if (auto code = args->option("--explain")) {
    if (!args->positional.empty()) return usage_error("check", "--explain takes a code, not files");
    return explain_code(*code);
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
