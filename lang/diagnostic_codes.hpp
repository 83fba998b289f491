// The diagnostic codes (lang/diagnostic_codes.def) as constants and as a table: the front end
// and the engine report `code::unknown_name`, never a literal; `crm check --explain CODE`
// prints an entry's explanation, `--list-codes` lists them all.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "lang/diagnostic.hpp"

namespace crm::lang {

// One constant per code: code::unknown_name is "E-unknown-name".
namespace code {
#define CRM_DIAGNOSTIC(Id, Code, Severity, Title, Explanation, Example, Fixed) inline constexpr const char* Id = Code;
#include "lang/diagnostic_codes.def"
}  // namespace code

struct DiagnosticCode {
  const char* code;         // "E-unknown-name"
  Severity severity;        // Error or Warning
  const char* title;        // one line
  const char* explanation;  // paragraphs, lines ending in '\n'
  const char* example;      // a script that gets this code ("" when none fits in one file)
  const char* fixed;        // the example corrected
};

// Every code, in the order of the .def (by phase: loading, parsing, checking, lint, tests, engine).
const std::vector<DiagnosticCode>& diagnostic_codes();
// The entry of a code ("E-type"), or null.
const DiagnosticCode* find_diagnostic_code(std::string_view code);
// The text of `crm check --explain CODE`: title, explanation, example and its fix.
std::string explain_diagnostic_code(const DiagnosticCode& c);

}  // namespace crm::lang
