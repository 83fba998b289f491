// libFuzzer entry over three inputs, picked by the first byte, each with the depth limits on:
// 0x01: parse + check + compile of the rest (the step chained `let`s once overflowed); 0x02: the
// rest as the JSON store input (crm::Store::from_json); anything else: parse + check of it all
// (so the saved .crm regressions and seeds keep their meaning). The only acceptable outcomes are
// diagnostics, errors or success (no crash, hang, leak or unbounded memory).
#include <cstddef>
#include <cstdint>
#include <string>

#include "crm/crm.hpp"
#include "engine/eval/program.hpp"
#include "lang/checker.hpp"
#include "lang/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crm::lang;
  const int mode = size > 0 && (data[0] == 1 || data[0] == 2) ? data[0] : 0;
  const size_t skip = mode ? 1 : 0;
  std::string text(reinterpret_cast<const char*>(data) + skip, size - skip);
  if (mode == 2) {
    try {
      crm::Store store = crm::Store::from_json(text);
      (void)store.customer_count();
    } catch (const crm::Error&) {
    }
    return 0;
  }
  auto file = std::make_shared<SourceFile>("fuzz.crm", std::move(text));
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
  if (mode == 1 && !diags.has_errors() && !check_diags.has_errors()) {
    Diagnostics compile_diags;
    crm::engine::Program compiled = crm::engine::compile_program(program, compile_diags);
    (void)compiled;
  }
  return 0;
}
