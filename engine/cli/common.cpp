// Shared CLI plumbing: script loading with the stdlib path and the rule graph, diagnostics output.
#include "cli/common.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/args.hpp"
#include "lang/ast_printer.hpp"
#include "engine/store/store.hpp"
#include "lang/date.hpp"
#include "lang/diagnostic_codes.hpp"

namespace crm::cli {

std::vector<std::string> stdlib_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("CRM_STDLIB"); env && *env) dirs.emplace_back(env);
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::filesystem::path exe(std::string(buf, static_cast<size_t>(n)));
    dirs.push_back((exe.parent_path().parent_path() / "share" / "crm" / "stdlib").string());
  }
  dirs.emplace_back(CRM_STDLIB_INSTALL_DIR);
  dirs.emplace_back(CRM_STDLIB_SOURCE_DIR);
  return dirs;
}

LoadedScript load_script(const std::vector<std::string>& paths, const std::optional<std::string>& db,
                         std::vector<lang::CheckOptions::Extra> extra) {
  LoadedScript s;
  lang::CheckOptions options;
  options.stdlib_dirs = stdlib_dirs();
  options.extra_attributes = std::move(extra);
  if (db && options.extra_attributes.empty()) {
    // The store's extra customer columns are attributes; a store that cannot be opened is
    // reported like any other error of the check.
    try {
      auto store = engine::open_store(*db);
      options.extra_attributes = store->extra_attributes();
      options.store_has_models = store->has_lifetime_models();
      options.has_store = true;
    } catch (const engine::StoreError& e) {
      s.diags.error(nullptr, {}, lang::code::store, e.what());
    }
  } else if (db) {
    options.has_store = true;
  }
  s.program = lang::load_and_check(paths, options, s.diags);
  if (!s.diags.has_errors()) s.graph = engine::build_rule_graph(s.program, s.diags);
  s.diags.sort();
  return s;
}

void print_diagnostics(const lang::Diagnostics& diags) {
  bool color = stderr_is_tty() && !std::getenv("NO_COLOR");
  std::string text = lang::render_all(diags, color);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

void print_ast(const LoadedScript& script) {
  for (const auto& m : script.program.modules) fmt::print("{}", lang::dump_ast(m));
}

bool date_option(const Args& args, const std::string& name, std::optional<Days>& out, std::string& error) {
  auto v = args.option(name);
  if (!v) return true;
  out = parse_date(*v);
  if (!out) error = fmt::format("{} '{}' is not a date (YYYY-MM-DD)", name, *v);
  return out.has_value();
}

}  // namespace crm::cli
