// Shared CLI plumbing: script loading with the stdlib path and the rule graph, diagnostics output.
#include "cli/common.hpp"
#include "engine/store/pg_conn.hpp"

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
  std::string beside_exe;
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::filesystem::path exe(std::string(buf, static_cast<size_t>(n)));
    beside_exe = (exe.parent_path().parent_path() / "share" / "crm" / "stdlib").string();
  }
  return engine::stdlib_search_path(beside_exe);
}

std::string shown_location(const std::string& db) { return engine::pg::is_uri(db) ? engine::pg::scrub_uri(db) : db; }

LoadedScript load_script(const std::vector<std::string>& paths, const std::optional<std::string>& db,
                         std::vector<lang::CheckOptions::Extra> extra) {
  LoadedScript s;
  lang::CheckOptions options;
  options.stdlib_dirs = stdlib_dirs();
  options.allow_imports_outside = allow_imports_outside();
  options.extra_attributes = std::move(extra);
  if (db && options.extra_attributes.empty()) {
    // The store's extra customer columns are attributes; a store that cannot be opened is
    // reported like any other error of the check.
    try {
      auto store = engine::open_store_read_only(*db);
      options.extra_attributes = store->extra_attributes();
      options.store_has_models = store->has_lifetime_models();
      options.has_store = true;
    } catch (const engine::StoreError& e) {
      s.diags.error(nullptr, {}, lang::code::store, e.what());
    }
  } else if (db) {
    options.has_store = true;
  }
  static_cast<engine::CompiledScript&>(s) = engine::compile_script(paths, options, s.diags);
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
