// Text for a terminal from data we do not control (customer names, tags, payloads): control
// bytes could move the cursor, recolour or retitle it (escape-sequence injection). Shared by
// every text output (run, simulate, explain, report, event).
#pragma once
#include <string>
#include <string_view>

namespace crm::lang {

// `s` with each C0 control byte (but newline), DEL and C1 control (U+0080..U+009F, as UTF-8)
// replaced by '?'. Newlines are kept: callers pass whole lines of their own layout.
inline std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out += '?';
      ++i;
    } else if ((c < 0x20 && c != '\n') || c == 0x7F) {
      out += '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace crm::lang
