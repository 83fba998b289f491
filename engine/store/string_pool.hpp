// Interned strings shared by the store's facts and the frames computed from them: a string
// value is an id into one pool, so equality is an integer compare.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace crm::engine {

// Interned strings: string values in columns are ids into one pool, so equality is an
// integer compare. Ids are given in the order strings are first interned. Not thread-safe for
// interning; lookups of existing ids are.
//
// Laid out for a load that interns millions of names and e-mail addresses: the texts go into
// large blocks (no allocation per string), the index is an open-addressing table of 8-byte
// slots (part of the hash and the id) probed linearly, so a lookup touches one slot and, when
// that part of the hash matches, the one text.
class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;  // views point into the blocks
  StringPool& operator=(const StringPool&) = delete;

  int64_t intern(std::string_view s) {
    if ((strings_.size() + 1) * 2 > slots_.size()) grow(std::max<size_t>(slots_.size() * 2, 64));
    const uint64_t h = hash(s);
    const uint32_t tag = tag_of(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& sl = slots_[i];
      if (sl.id == kEmpty) {
        sl = {tag, static_cast<uint32_t>(strings_.size())};
        strings_.push_back(store(s));
        return static_cast<int64_t>(strings_.size() - 1);
      }
      if (sl.tag == tag && strings_[sl.id] == s) return sl.id;
    }
  }
  // -1 when the string was never interned (so no row can hold it).
  int64_t find(std::string_view s) const {
    if (strings_.empty()) return -1;
    const uint64_t h = hash(s);
    const uint32_t tag = tag_of(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& sl = slots_[i];
      if (sl.id == kEmpty) return -1;
      if (sl.tag == tag && strings_[sl.id] == s) return sl.id;
    }
  }
  std::string_view get(int64_t id) const { return strings_[static_cast<size_t>(id)]; }
  // For about n strings: no regrowth of the index while loading.
  void reserve(size_t n) {
    strings_.reserve(n);
    size_t want = 64;
    while (want < 2 * n) want *= 2;
    if (want > slots_.size()) grow(want);
  }
  size_t size() const { return strings_.size(); }

 private:
  struct Slot {
    uint32_t tag = 0;     // high bits of the hash
    uint32_t id = kEmpty;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr size_t kBlock = 256 * 1024;

  static uint64_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }
  static uint32_t tag_of(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

  void grow(size_t n) {  // n: a power of two
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    for (const Slot& sl : old) {
      if (sl.id == kEmpty) continue;
      size_t i = hash(strings_[sl.id]) & mask_;
      while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
      slots_[i] = sl;
    }
  }
  // A copy of `s` in the blocks (stable: blocks never move).
  std::string_view store(std::string_view s) {
    if (s.size() > left_) {
      size_t n = std::max(kBlock, s.size());
      blocks_.push_back(std::unique_ptr<char[]>(new char[n]));
      next_ = blocks_.back().get();
      left_ = n;
    }
    if (!s.empty()) std::memcpy(next_, s.data(), s.size());
    std::string_view out(next_, s.size());
    next_ += s.size();
    left_ -= s.size();
    return out;
  }

  std::vector<std::string_view> strings_;  // by id, into blocks_
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace crm::engine
