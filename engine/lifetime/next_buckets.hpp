// The day buckets of the next-purchase analysis, shared by `crm analyze next-purchase`
// (engine/model/next_purchase.cpp) and the recommended(N) attribute (engine/frame/).
#pragma once
#include <array>

namespace crm::model {

// Days from a purchase to the customer's next purchase day: 0-3, 4-7, 8-14, 15-30, 31-60,
// 61-180. A next purchase more than kMaxGapDays later is not counted. (0 days: a second order
// on the same day is part of the same purchase; it enters the 0-3 bucket only through orders
// on the following days.)
constexpr int kBucketCount = 6;
constexpr std::array<int, kBucketCount> kBucketLast = {3, 7, 14, 30, 60, 180};
constexpr int kMaxGapDays = 180;
// The bucket of `days`; -1 beyond kMaxGapDays (or negative).
inline int bucket_of(int days) {
  for (int b = 0; b < kBucketCount; ++b)
    if (days <= kBucketLast[static_cast<size_t>(b)]) return days < 0 ? -1 : b;
  return -1;
}

}  // namespace crm::model
