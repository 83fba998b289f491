// Tag changes made by rules since the facts were loaded (a dry run or simulation keeps them in
// memory, the frame cursor folds them into the tags column): per customer row, (tag string id,
// set?) in the order they were made.
//
// Flat: one chain per row in a shared pool, found through an array indexed by row whose pages
// are mapped only where a row has changes. A first day at 1M customers tags ~90k of them; a
// vector of per-row vectors cost a zeroed 24 MB index and a heap block per tagged row.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/store/zero_array.hpp"

namespace crm::engine {

class TagOverlay {
 public:
  using Change = std::pair<int64_t, bool>;  // (tag string id, set?)

  // Makes room for rows [0, rows) at once (address space: pages are mapped where rows change),
  // instead of doubling as rows come: a first day at 1M customers copied the index ten times,
  // into fresh pages each time.
  void reserve_rows(size_t rows) { newest_.grow(rows); }
  // Appends a change to `row`'s.
  void add(size_t row, int64_t tag, bool set);
  bool empty() const { return nodes_.empty(); }
  bool has(size_t row) const { return row < newest_.size() && newest_.written_near(row) && newest_[row] != 0; }
  // `row`'s changes in the order made, into `out` (replaced).
  void changes(size_t row, std::vector<Change>& out) const;
  // Forgets every change; costs what was added since the last clear while that is small.
  void clear();

 private:
  struct Node {
    int64_t tag;
    uint32_t prev;  // the row's previous change: node + 1 (0: none)
    bool set;
  };
  static constexpr size_t kMaxRows = 4096;   // rows kept for clear; past that it zeroes the index
  ZeroArray<uint32_t> newest_;               // [row] -> its newest node + 1 (0: no change)
  std::vector<Node, FreshPageAllocator<Node>> nodes_;
  std::vector<uint32_t> rows_;               // rows with a change, up to kMaxRows
  bool rows_overflow_ = false;
};

}  // namespace crm::engine
