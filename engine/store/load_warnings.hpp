// The loader's warnings (odd data never fails a load): listed up to kMaxWarningsPerKind per kind,
// the rest summarised in one line. Shared by every backend's loader.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lang/terminal_safe.hpp"

namespace crm::engine::loading {

// At most this many warnings of one kind are listed; the rest are summarised in one line, so a
// store with a million bad rows still gives a readable report.
constexpr size_t kMaxWarningsPerKind = 20;

class Warnings {
 public:
  void add(const std::string& kind, std::string message) {
    size_t& n = counts_[kind];
    // The message quotes store cells (a bad id, a malformed date): control bytes in them must
    // not reach a terminal (issue 12.7), so they are made visible here, for every backend.
    // A warning is one line: a newline in a cell is shown as '?' too.
    if (n++ >= kMaxWarningsPerKind) return;
    std::string line = lang::terminal_safe(message);
    for (char& c : line)
      if (c == '\n') c = '?';
    list_.push_back(std::move(line));
  }
  std::vector<std::string> finish() {
    for (const auto& [kind, n] : counts_)
      if (n > kMaxWarningsPerKind)
        list_.push_back("... and " + std::to_string(n - kMaxWarningsPerKind) + " more warnings like: " + kind);
    return std::move(list_);
  }

 private:
  std::map<std::string, size_t> counts_;
  std::vector<std::string> list_;
};

}  // namespace crm::engine::loading
