// Command-line argument parsing for the crm subcommands.
#include "cli/args.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace crm::cli {

namespace {
bool g_allow_imports_outside = false;
}  // namespace

void set_allow_imports_outside(bool allow) { g_allow_imports_outside = allow; }
bool allow_imports_outside() {
  const char* env = std::getenv("CRM_ALLOW_IMPORTS_OUTSIDE");
  return g_allow_imports_outside || (env && std::string(env) == "1");
}

std::optional<Args> parse_args(const std::vector<std::string>& argv, const ArgSpec& spec, std::string& error) {
  Args out;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-' ) {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a == "--allow-imports-outside") {  // every command that loads a script (docs/hardening.md)
      set_allow_imports_outside(true);
      continue;
    }
    std::string name = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (spec.flags.count(name)) {
      if (has_value) {
        error = fmt::format("option '{}' takes no value", name);
        return std::nullopt;
      }
      out.flags.insert(name);
    } else if (spec.options.count(name)) {
      if (!has_value) {
        if (i + 1 >= argv.size()) {
          error = fmt::format("option '{}' needs a value", name);
          return std::nullopt;
        }
        value = argv[++i];
      }
      out.options[name] = value;
    } else {
      error = fmt::format("unknown option '{}'", name);
      return std::nullopt;
    }
  }
  return out;
}

int usage_error(const std::string& cmd, const std::string& message) {
  fmt::print(stderr, "crm {}: {}\nTry 'crm {} --help'.\n", cmd, message, cmd);
  return kExitUsage;
}

bool stderr_is_tty() { return isatty(fileno(stderr)) != 0; }
bool stdout_is_tty() { return isatty(fileno(stdout)) != 0; }

}  // namespace crm::cli
