// The table of diagnostic codes (lang/diagnostic_codes.def): codes are unique and well formed,
// and every example script gets its code while its corrected version checks clean of it.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "engine/graph/rule_graph.hpp"
#include "lang/checker.hpp"
#include "lang/diagnostic_codes.hpp"

using namespace crm::lang;
namespace fs = std::filesystem;

namespace {

// Checks `text` as example.crm, alone in a fresh folder, and builds its rule graph as
// `crm check` does (E-rule-cycle comes from there).
Diagnostics check_example(const std::string& text) {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() / ("crm_diag_codes_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "example.crm") << text;
  Diagnostics d;
  CheckOptions options;
  CheckedProgram prog = load_and_check({(dir / "example.crm").string()}, options, d);
  if (!d.has_errors()) crm::engine::build_rule_graph(prog, d);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return d;
}

bool has_code(const Diagnostics& d, const char* code) {
  for (const auto& x : d.items())
    if (x.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("diagnostic codes: unique, prefixed by their severity, with a title and an explanation") {
  std::set<std::string> seen;
  REQUIRE(diagnostic_codes().size() >= 50);
  for (const auto& c : diagnostic_codes()) {
    INFO(c.code);
    CHECK(seen.insert(c.code).second);
    std::string_view code(c.code);
    CHECK(code.substr(0, 2) == (c.severity == Severity::Warning ? "W-" : "E-"));
    CHECK(code.find_first_not_of("EW-abcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos);
    CHECK(*c.title);
    CHECK(std::string_view(c.explanation).size() > 40);
    CHECK(std::string_view(c.explanation).back() == '\n');
    CHECK((*c.example == '\0') == (*c.fixed == '\0'));
    CHECK(find_diagnostic_code(c.code) == &c);
  }
  CHECK(find_diagnostic_code("E-nope") == nullptr);
  CHECK(std::string(code::unknown_name) == "E-unknown-name");
  CHECK(std::string(code::never_fires) == "W-never-fires");
}

TEST_CASE("diagnostic codes: each example gets its code; its fix checks without it and without errors") {
  size_t examples = 0;
  for (const auto& c : diagnostic_codes()) {
    if (!*c.example) continue;
    ++examples;
    INFO(c.code);
    Diagnostics bad = check_example(c.example);
    CHECK_MESSAGE(has_code(bad, c.code), render_all(bad));
    Diagnostics good = check_example(c.fixed);
    CHECK_MESSAGE(!has_code(good, c.code), render_all(good));
    CHECK_MESSAGE(!good.has_errors(), render_all(good));
  }
  CHECK(examples >= 40);
}

TEST_CASE("diagnostic codes: the explanation shows the example and the fix") {
  const DiagnosticCode* c = find_diagnostic_code("E-unknown-name");
  REQUIRE(c);
  std::string text = explain_diagnostic_code(*c);
  CHECK(text.rfind("E-unknown-name (error): ", 0) == 0);
  CHECK(text.find("    rule welcome: when purchse_count == 1 then send thanks\n") != std::string::npos);
  CHECK(text.find("Corrected:") != std::string::npos);
}
