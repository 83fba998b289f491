// The crm command: dispatches to the subcommands of commands.hpp. Infrastructure failures
// (I/O, SQLite) arrive as exceptions and leave as one-line messages with exit code 1.
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace {

void print_help() {
  fmt::print(
      "crm - the CRM campaign rule language and engine\n\n"
      "Usage: crm <command> [options] [args]\n\nCommands:\n");
  for (const auto& c : crm::cli::commands()) fmt::print("  {:<10} {}\n", c.name, c.summary);
  fmt::print(
      "\nRun 'crm <command> --help' for a command's options.\n"
      "Exit codes: 0 ok, 1 script or data error, 2 usage error.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? crm::cli::kExitUsage : crm::cli::kExitOk;
  }
  if (args[0] == "--version") {
    fmt::print("crm 0.1.0\n");
    return 0;
  }
  for (const auto& c : crm::cli::commands()) {
    if (args[0] != c.name) continue;
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const std::exception& e) {
      fmt::print(stderr, "crm {}: error: {}\n", c.name, e.what());
      return crm::cli::kExitError;
    }
  }
  fmt::print(stderr, "crm: unknown command '{}'\nRun 'crm --help' for the list of commands.\n", args[0]);
  return crm::cli::kExitUsage;
}
