// libFuzzer entry: any byte sequence goes through the parser and the checker; the only
// acceptable outcomes are diagnostics or success (no crash, hang, leak or unbounded memory).
#include <cstddef>
#include <cstdint>
#include <string>

#include "lang/checker.hpp"
#include "lang/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crm::lang;
  auto file = std::make_shared<SourceFile>("fuzz.crm", std::string(reinterpret_cast<const char*>(data), size));
  Diagnostics diags;
  Module m = parse(file, diags);
  std::vector<Module> modules;
  modules.push_back(std::move(m));
  CheckOptions options;  // no stdlib dirs: imports of the input resolve nowhere useful
  options.stdlib_dirs = {"/nonexistent-crm-stdlib"};
  Diagnostics check_diags;
  CheckedProgram program = check(std::move(modules), options, check_diags);
  for (const auto& d : check_diags.items()) (void)render(d);
  for (const auto& d : diags.items()) (void)render(d);
  return 0;
}
