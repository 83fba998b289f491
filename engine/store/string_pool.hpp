// Interned strings shared by the store's facts and the frames computed from them: a string
// value is an id into one pool, so equality is an integer compare.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace crm::engine {

// Interned strings: string values in columns are ids into one pool, so equality is an
// integer compare. Not thread-safe for interning; lookups of existing ids are.
class StringPool {
 public:
  int64_t intern(std::string_view s) {
    auto it = index_.find(s);
    if (it != index_.end()) return it->second;
    strings_.emplace_back(s);
    int64_t id = static_cast<int64_t>(strings_.size() - 1);
    index_.emplace(strings_.back(), id);
    return id;
  }
  // -1 when the string was never interned (so no row can hold it).
  int64_t find(std::string_view s) const {
    auto it = index_.find(s);
    return it == index_.end() ? -1 : it->second;
  }
  std::string_view get(int64_t id) const { return strings_[static_cast<size_t>(id)]; }
  void reserve(size_t n) { index_.reserve(n); }  // for about n strings: no rehash while loading
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // stable addresses for the string_view keys
  std::unordered_map<std::string_view, int64_t> index_;
};

}  // namespace crm::engine
