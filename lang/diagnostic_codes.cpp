// The table of diagnostic codes read from diagnostic_codes.def, its lookup and the text of
// `crm check --explain`.
#include "lang/diagnostic_codes.hpp"

#include <fmt/format.h>

namespace crm::lang {

const std::vector<DiagnosticCode>& diagnostic_codes() {
  static const std::vector<DiagnosticCode> codes = {
#define CRM_DIAGNOSTIC(Id, Code, Sev, Title, Explanation, Example, Fixed) \
  {Code, Severity::Sev, Title, Explanation, Example, Fixed},
#include "lang/diagnostic_codes.def"
  };
  return codes;
}

const DiagnosticCode* find_diagnostic_code(std::string_view code) {
  for (const auto& c : diagnostic_codes())
    if (code == c.code) return &c;
  return nullptr;
}

namespace {

std::string indented(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    out += line.empty() ? "\n" : fmt::format("    {}\n", line);
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string explain_diagnostic_code(const DiagnosticCode& c) {
  std::string out = fmt::format("{} ({}): {}\n\n{}", c.code, c.severity == Severity::Warning ? "warning" : "error",
                                c.title, c.explanation);
  if (*c.example) {
    out += fmt::format("\nFor example, this script gets {}:\n\n{}", c.code, indented(c.example));
    out += fmt::format("\nCorrected:\n\n{}", indented(c.fixed));
  }
  return out;
}

}  // namespace crm::lang
