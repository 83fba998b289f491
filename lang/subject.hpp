// The placeholders of a message subject ("Hello {display_name|'customer'}"): each `{NAME}` or
// `{NAME|"fallback"}` / `{NAME|'fallback'}`, with an optional number format after the name
// (`{total_spent:0}` decimals 0..6, `{id:plain}` no thousands separators), read by the checker
// (names must exist) and the run engine (rendering).
#pragma once
#include <string>
#include <vector>

namespace crm::lang {

struct Placeholder {
  std::string name;             // an attribute or a let/segment definition
  std::string fallback;         // rendered when the value is null (unquoted)
  bool has_fallback = false;
  bool fallback_quoted = true;  // false: text after '|' that is not a "string" (a check error)
  std::string format;           // after ':' ("" when none): "0".."6" decimals, or "plain"
  bool has_format = false;
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
    if (size_t colon = p.name.find(':'); colon != std::string::npos) {
      p.format = p.name.substr(colon + 1);
      p.name.erase(colon);
      p.has_format = true;
      while (!p.format.empty() && p.format.back() == ' ') p.format.pop_back();
      while (!p.format.empty() && p.format.front() == ' ') p.format.erase(0, 1);
    }
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

// The decimals a format asks for: 0..6, -1 for none or "plain" (the value's default).
inline int format_digits(const std::string& format) {
  return format.size() == 1 && format[0] >= '0' && format[0] <= '6' ? format[0] - '0' : -1;
}
inline bool valid_format(const std::string& format) { return format == "plain" || format_digits(format) >= 0; }

}  // namespace crm::lang
