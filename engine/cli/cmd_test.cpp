// crm test FILE|DIR...: runs the `test "NAME" { ... }` blocks of .crm files (docs/testing.md)
// with the engine's test runner (engine/run/test_runner.hpp): finds the files, compiles each,
// prints ok/FAIL per test and the totals.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/run/test_runner.hpp"

namespace crm::cli {
namespace {

namespace fs = std::filesystem;
using lang::Test;

struct Style {
  bool color = false;
  std::string ok() const { return color ? "\x1b[32mok\x1b[0m  " : "ok  "; }
  std::string fail() const { return color ? "\x1b[31mFAIL\x1b[0m" : "FAIL"; }
};

// The files to run: FILE as given, and every *_test.crm under DIR (recursively, sorted).
bool collect_files(const std::vector<std::string>& args, std::vector<std::string>& files, std::string& error) {
  std::set<std::string> seen;
  auto add = [&](const std::string& f) {
    std::error_code ec;
    std::string key = fs::weakly_canonical(f, ec).string();
    if (seen.insert(ec ? f : key).second) files.push_back(f);
  };
  for (const auto& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> found;
      for (fs::recursive_directory_iterator it(a, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_regular_file(ec) && name.size() > 9 && name.compare(name.size() - 9, 9, "_test.crm") == 0)
          found.push_back(it->path().lexically_normal().string());
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) add(f);
    } else if (fs::is_regular_file(a, ec)) {
      add(a);
    } else {
      error = fmt::format("no such file or directory: {}", a);
      return false;
    }
  }
  return true;
}

}  // namespace

int cmd_test(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm test FILE|DIR...\n\n"
      "Runs the tests written in .crm files: each `test \"NAME\" { ... }` block declares fixture\n"
      "customers with their facts, a day (`on DATE`) or a range (`from DATE to DATE`), and the\n"
      "actions expected (`expect ...`) and expected absent (`expect no ...`). Each test runs on its\n"
      "own in-memory store, as a dry run over its days (history and tags carried from day to day,\n"
      "as in 'crm simulate'). A DIR is searched recursively for *_test.crm files. Tests of\n"
      "imported modules are not run. The syntax is in docs/testing.md.\n\n"
      "Prints each file, then 'ok' or 'FAIL' and the name of each test; a failing test lists the\n"
      "expectations not met ('-' an expected action missing, '+' an action expected absent) and\n"
      "the actions it produced. The last line is 'N passed, M failed'.\n\n"
      "Options:\n"
      "  --help     show this help\n\n"
      "Examples:\n"
      "  crm test examples/campaigns/winback_test.crm\n"
      "  crm test stdlib/ examples/\n\n"
      "Exit codes: 0 every test passed, 1 a test failed or a file has errors, 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{}, {}}, error);
  if (!args) return usage_error("test", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (args->positional.empty()) return usage_error("test", "no input files");
  std::vector<std::string> files;
  if (!collect_files(args->positional, files, error)) return usage_error("test", error);

  Style style;
  style.color = stdout_is_tty() && !std::getenv("NO_COLOR");
  size_t passed = 0, failed = 0, broken = 0;
  for (const auto& file : files) {
    fmt::print("{}\n", file);
    std::fflush(stdout);
    LoadedScript script = load_script({file}, std::nullopt);
    print_diagnostics(script.diags);
    std::optional<engine::TimeZone> tz;
    if (script.ok()) {
      std::string tz_error;
      tz = engine::TimeZone::load(script.program.timezone.value_or("UTC"), tz_error);
      if (!tz) fmt::print(stderr, "crm test: error: {}\n", tz_error);
    }
    if (!tz) {
      fmt::print("  error: the file has errors (see above); its tests were not run\n");
      ++broken;
      continue;
    }
    const lang::Module& module = script.program.modules.back();  // the given file comes after its imports
    size_t count = 0;
    for (const auto& item : module.items) {
      const Test* t = std::get_if<Test>(&item.node);
      if (!t) continue;
      ++count;
      engine::TestResult r = engine::run_test(script, *tz, module, *t);
      fmt::print("  {}  {}\n", r.passed ? style.ok() : style.fail(), t->name);
      for (const auto& l : r.lines) fmt::print("        {}\n", l);
      ++(r.passed ? passed : failed);
      std::fflush(stdout);
    }
    if (count == 0) fmt::print("  (no tests)\n");
  }
  fmt::print("{} passed, {} failed{}\n", passed, failed,
             broken ? fmt::format(", {} file(s) with errors", broken) : std::string());
  return failed || broken ? kExitError : kExitOk;
}

}  // namespace crm::cli
