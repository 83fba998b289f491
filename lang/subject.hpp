// The placeholders of a message subject ("Hello {display_name|'customer'}"): each `{NAME}` or
// `{NAME|"fallback"}` / `{NAME|'fallback'}`, read by the checker (names must exist) and the run engine (rendering).
#pragma once
#include <string>
#include <vector>

namespace crm::lang {

struct Placeholder {
  std::string name;             // an attribute or a let/segment definition
  std::string fallback;         // rendered when the value is null (unquoted)
  bool has_fallback = false;
  bool fallback_quoted = true;  // false: text after '|' that is not a "string" (a check error)
  size_t begin = 0, end = 0;    // the placeholder's bytes in the subject, braces included
};

// Every `{...}` of `subject` in order; an unclosed '{' ends the scan.
inline std::vector<Placeholder> subject_placeholders(const std::string& subject) {
  std::vector<Placeholder> out;
  size_t pos = 0;
  while ((pos = subject.find('{', pos)) != std::string::npos) {
    size_t close = subject.find('}', pos);
    if (close == std::string::npos) break;
    Placeholder p;
    p.begin = pos;
    p.end = close + 1;
    std::string inner = subject.substr(pos + 1, close - pos - 1);
    size_t bar = inner.find('|');
    p.name = inner.substr(0, bar);
    while (!p.name.empty() && p.name.back() == ' ') p.name.pop_back();
    while (!p.name.empty() && p.name.front() == ' ') p.name.erase(0, 1);
    if (bar != std::string::npos) {
      std::string fb = inner.substr(bar + 1);
      while (!fb.empty() && fb.front() == ' ') fb.erase(0, 1);
      while (!fb.empty() && fb.back() == ' ') fb.pop_back();
      p.has_fallback = true;
      // "text" (written \"text\" inside the subject's string) or 'text'.
      p.fallback_quoted = fb.size() >= 2 && (fb.front() == '"' || fb.front() == '\'') && fb.back() == fb.front();
      p.fallback = p.fallback_quoted ? fb.substr(1, fb.size() - 2) : fb;
    }
    out.push_back(std::move(p));
    pos = close + 1;
  }
  return out;
}

}  // namespace crm::lang
