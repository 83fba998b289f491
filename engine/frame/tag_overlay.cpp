// TagOverlay (tag_overlay.hpp): per-row chains of tag changes, newest first.
#include "engine/frame/tag_overlay.hpp"

#include <algorithm>
#include <stdexcept>

namespace crm::engine {

void TagOverlay::add(size_t row, int64_t tag, bool set) {
  if (nodes_.size() >= UINT32_MAX - 1) throw std::length_error("too many tag changes in one run");
  if (row >= newest_.size()) newest_.grow(std::max({row + 1, newest_.size() * 2, size_t{1024}}));
  uint32_t& head = newest_.at(row);
  if (head == 0) {
    if (rows_.size() < kMaxRows) rows_.push_back(static_cast<uint32_t>(row));
    else rows_overflow_ = true;
  }
  nodes_.push_back({tag, head, set});
  head = static_cast<uint32_t>(nodes_.size());
}

void TagOverlay::changes(size_t row, std::vector<Change>& out) const {
  out.clear();
  for (uint32_t n = has(row) ? newest_[row] : 0; n != 0; n = nodes_[n - 1].prev)
    out.emplace_back(nodes_[n - 1].tag, nodes_[n - 1].set);
  std::reverse(out.begin(), out.end());
}

void TagOverlay::clear() {
  if (rows_overflow_) newest_.zero();
  else
    for (uint32_t r : rows_) newest_[r] = 0;
  rows_.clear();
  rows_overflow_ = false;
  nodes_.clear();
}

}  // namespace crm::engine
