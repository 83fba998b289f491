// The compile pipeline written once: check -> rule graph -> compile (compiled_script.hpp).
#include "engine/eval/compiled_script.hpp"

#include <cstdlib>

namespace crm::engine {

std::vector<std::string> stdlib_search_path(const std::string& binary_relative, std::vector<std::string> first) {
  std::vector<std::string> dirs = std::move(first);
  if (const char* env = std::getenv("CRM_STDLIB"); env && *env) dirs.emplace_back(env);
  if (!binary_relative.empty()) dirs.push_back(binary_relative);
  dirs.emplace_back(CRM_STDLIB_INSTALL_DIR);
  dirs.emplace_back(CRM_STDLIB_SOURCE_DIR);
  return dirs;
}

namespace {
// The steps after the check: rule graph, then program.
void finish(CompiledScript& out, lang::Diagnostics& diags) {
  if (!diags.has_errors()) out.graph = build_rule_graph(out.program, diags);
  if (!diags.has_errors()) out.compiled = compile_program(out.program, diags);
  diags.sort();
}
}  // namespace

CompiledScript compile_script(const std::vector<std::string>& paths, const lang::CheckOptions& options,
                              lang::Diagnostics& diags) {
  CompiledScript out;
  out.program = lang::load_and_check(paths, options, diags);
  finish(out, diags);
  return out;
}

CompiledScript compile_script(std::vector<lang::Module> modules, const lang::CheckOptions& options,
                              lang::Diagnostics& diags) {
  CompiledScript out;
  out.program = lang::check(std::move(modules), options, diags);
  finish(out, diags);
  return out;
}

}  // namespace crm::engine
