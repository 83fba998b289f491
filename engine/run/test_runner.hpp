// The in-language test runner (docs/testing.md): runs one `test "NAME" { ... }` block of a
// compiled script on a private in-memory store built from its fixtures, as a dry run of its
// days, and matches the actions against its expectations. Used by `crm test`.
#pragma once
#include <string>
#include <vector>

#include "engine/eval/compiled_script.hpp"
#include "engine/store/timezone.hpp"
#include "lang/ast.hpp"

namespace crm::engine {

// A test longer than this is surely a typo in a year (as for crm simulate).
constexpr int kMaxTestDays = 3660;

struct TestResult {
  bool passed = false;
  std::vector<std::string> lines;  // the failure report ("- expected: ...", the actual actions)
};

// Runs test `t` of `module` (the script's file, compiled in `script`) with days in time zone
// `tz`. Errors building its store are a failed result whose line says "error: ...".
TestResult run_test(const CompiledScript& script, const TimeZone& tz, const lang::Module& module, const lang::Test& t);

}  // namespace crm::engine
