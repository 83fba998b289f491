// The loader's warnings (odd data never fails a load): listed up to kMaxWarningsPerKind per kind,
// the rest summarised in one line. Shared by every backend's loader.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace crm::engine::loading {

// At most this many warnings of one kind are listed; the rest are summarised in one line, so a
// store with a million bad rows still gives a readable report.
constexpr size_t kMaxWarningsPerKind = 20;

class Warnings {
 public:
  void add(const std::string& kind, std::string message) {
    size_t& n = counts_[kind];
    if (n++ < kMaxWarningsPerKind) list_.push_back(std::move(message));
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
