// A small command-line parser shared by the subcommands: positionals, --flag and --opt VALUE
// (or --opt=VALUE). Usage errors are reported as values, the command exits 2.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace crm::cli {

// Exit codes of SPEC §7.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // script or data error
constexpr int kExitUsage = 2;

struct ArgSpec {
  std::set<std::string> flags;    // options without a value: "--check", "--dry-run"
  std::set<std::string> options;  // options with a value: "--db", "--date"
};

struct Args {
  std::vector<std::string> positional;
  std::set<std::string> flags;
  std::map<std::string, std::string> options;
  bool help = false;

  bool flag(const std::string& f) const { return flags.count(f) > 0; }
  std::optional<std::string> option(const std::string& o) const {
    auto it = options.find(o);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
};

// Parses `argv` (without the program and subcommand names). On a usage error returns
// nullopt and sets `error` to a message naming the bad argument.
std::optional<Args> parse_args(const std::vector<std::string>& argv, const ArgSpec& spec, std::string& error);

// Prints "crm <cmd>: <message>" and "Try 'crm <cmd> --help'." to stderr; returns kExitUsage.
int usage_error(const std::string& cmd, const std::string& message);

// `--allow-imports-outside`, accepted by every command (parse_args sets it), or the environment
// variable CRM_ALLOW_IMPORTS_OUTSIDE=1: imports may leave the script's folder tree.
void set_allow_imports_outside(bool allow);
bool allow_imports_outside();

// True when stderr is a terminal (for colours and progress bars).
bool stderr_is_tty();
bool stdout_is_tty();

}  // namespace crm::cli
