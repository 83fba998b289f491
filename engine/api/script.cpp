// The C++ embedding API's scripts (engine/include/crm/crm.hpp): compiled once with
// engine::compile_script (check -> rule graph -> compile) from a file or a string, with the
// stdlib found beside libcrm; diagnostics turned into the API's Diagnostic.
#include "crm/crm.hpp"
#include "engine/api/internal.hpp"

#include <dlfcn.h>
#include <fmt/core.h>

#include <filesystem>

#include "engine/eval/compiled_script.hpp"
#include "lang/checker.hpp"
#include "lang/diagnostic_codes.hpp"
#include "lang/parser.hpp"

namespace crm {

namespace {

const char* severity_name(lang::Severity s) {
  return s == lang::Severity::Error ? "error" : s == lang::Severity::Warning ? "warning" : "note";
}

Diagnostic to_diagnostic(const lang::Diagnostic& d) {
  Diagnostic out;
  if (d.file) {
    out.file = d.file->path();
    lang::LineCol lc = d.file->line_col(d.span.begin);
    out.line = static_cast<int>(lc.line);
    out.col = static_cast<int>(lc.column);
  }
  out.severity = severity_name(d.severity);
  out.code = d.code;
  out.message = d.message;
  out.hint = d.hint;
  out.rendered = lang::render(d);
  return out;
}

// The directory of libcrm itself (for <libdir>/../share/crm/stdlib).
std::string library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&library_dir), &info) && info.dli_fname)
    return std::filesystem::path(info.dli_fname).parent_path().string();
  return {};
}

std::vector<std::string> stdlib_dirs(const CompileOptions& options) {
  std::string lib = library_dir();
  return engine::stdlib_search_path(
      lib.empty() ? std::string() : (std::filesystem::path(lib) / CRM_LIB_TO_STDLIB).lexically_normal().string(),
      options.stdlib_dirs);
}

// The API's result of engine::compile_script (diags sorted by it).
CompileResult finish_compile(std::shared_ptr<Script::Impl> impl, const lang::Diagnostics& diags) {
  CompileResult r;
  for (const auto& d : diags.items()) r.diagnostics.push_back(to_diagnostic(d));
  if (!diags.has_errors()) r.script = ScriptBuilder::make(std::move(impl));
  return r;
}

// The checker's options for a compile: stdlib folders, and the store's extra columns as attributes.
lang::CheckOptions check_options(const CompileOptions& options) {
  lang::CheckOptions co;
  co.stdlib_dirs = stdlib_dirs(options);
  co.allow_imports_outside = options.allow_imports_outside;
  if (options.store) {
    co.extra_attributes = detail::store_extras(*options.store);
    co.has_store = true;
  }
  return co;
}
}  // namespace

CompileResult Script::compile_file(const std::string& path, const CompileOptions& options) {
  auto impl = std::make_shared<Impl>();
  lang::CheckOptions co = check_options(options);
  impl->extras = co.extra_attributes;
  lang::Diagnostics diags;
  static_cast<engine::CompiledScript&>(*impl) = engine::compile_script({path}, co, diags);
  return finish_compile(std::move(impl), diags);
}

CompileResult Script::compile_string(std::string_view source, const std::string& name, const CompileOptions& options) {
  auto impl = std::make_shared<Impl>();
  lang::CheckOptions co = check_options(options);
  impl->extras = co.extra_attributes;
  lang::Diagnostics diags;
  auto file = std::make_shared<lang::SourceFile>(name, std::string(source));
  if (source.size() > lang::kMaxSourceBytes) {
    diags.error(file, {}, lang::code::too_large, fmt::format("the script is larger than {} bytes", lang::kMaxSourceBytes));
  } else {
    std::vector<lang::Module> modules;
    modules.push_back(lang::parse(file, diags));
    if (!diags.has_errors())
      static_cast<engine::CompiledScript&>(*impl) = engine::compile_script(std::move(modules), co, diags);
  }
  diags.sort();
  return finish_compile(std::move(impl), diags);
}

std::vector<std::string> Script::rule_names() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->program.rules) out.push_back(r.name);
  return out;
}

std::optional<std::string> Script::timezone() const { return impl_->program.timezone; }

std::string CompileResult::rendered() const {
  std::string out;
  for (const auto& d : diagnostics) out += d.rendered;
  return out;
}

}  // namespace crm
