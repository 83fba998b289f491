// DayPredictions (see day_predictions.hpp): tables of logarithms and a memo of the expected
// purchases' 2F1 factor per (x, T) pair, filled once a day, then one pass over the rows.
#include "engine/frame/day_predictions.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "engine/frame/attributes.hpp"
#include "engine/frame/frame_internal.hpp"

namespace crm::engine {
namespace {

using frame_detail::for_rows;

// The (x, T) memo holds at most this many entries (x * (max T + 1) + T): customers with more
// repeat purchases than fit compute their factor themselves (few: x is in the tens).
constexpr size_t kMemoEntries = size_t{1} << 21;

}  // namespace

DayPredictions::DayPredictions(const model::LifetimeModels& m, Days d, const std::vector<RfmRow>& rfm)
    : m_(m), d_(d), rfm_(rfm), unit_(model::unit_days(m.unit)) {
  if (!m_.bgnbd) return;
  const model::BgNbdParams& p = *m_.bgnbd;
  Days max_t = 0;
  int max_x = 0;
  for (const RfmRow& h : rfm_) {
    if (h.first == kNoDay) continue;
    max_t = std::max(max_t, d_ - h.first);
    max_x = std::max(max_x, h.x);
  }
  // The same expressions as model::bgnbd_p_alive on LifetimeModels::p_alive's arguments.
  log_day_.resize(static_cast<size_t>(max_t) + 1);
  for (size_t k = 0; k < log_day_.size(); ++k) log_day_[k] = std::log(p.alpha + static_cast<double>(k) / unit_);
  log_ab_.resize(static_cast<size_t>(max_x) + 1);
  for (int x = 1; x <= max_x; ++x) {
    const double xd = x;
    log_ab_[static_cast<size_t>(x)] = std::log(p.a / (p.b + xd - 1));
  }
  width_ = log_day_.size();
  max_x_ = max_x;
}

void DayPredictions::find_pairs() {
  if (pairs_found_) return;
  pairs_found_ = true;
  memo_x_ = std::min(max_x_, static_cast<int>(kMemoEntries / width_) - 1);
  if (memo_x_ < 0) return;
  std::vector<uint8_t> seen((static_cast<size_t>(memo_x_) + 1) * width_, 0);
  for (const RfmRow& h : rfm_)
    if (h.first != kNoDay && h.x <= memo_x_) seen[static_cast<size_t>(h.x) * width_ + static_cast<size_t>(d_ - h.first)] = 1;
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i]) pairs_.push_back(static_cast<uint32_t>(i));
  factor_.resize(seen.size());
}

void DayPredictions::p_alive(std::vector<double>& out) const {
  out.resize(rfm_.size());
  if (!m_.bgnbd) {
    for_rows(rfm_.size(), [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) {
        const RfmRow& h = rfm_[r];
        if (h.first != kNoDay) out[r] = m_.p_alive(h.x, h.last - h.first, d_ - h.first);
      }
    });
    return;
  }
  const model::BgNbdParams& p = *m_.bgnbd;
  for_rows(rfm_.size(), [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const RfmRow& h = rfm_[r];
      if (h.first == kNoDay) continue;
      // model::bgnbd_p_alive: 1 without a repeat purchase.
      out[r] = h.x <= 0 ? 1.0
                        : model::bgnbd_p_alive_of_logs(p, h.x, log_ab_[static_cast<size_t>(h.x)],
                                                       log_day_[static_cast<size_t>(d_ - h.first)],
                                                       log_day_[static_cast<size_t>(h.last - h.first)]);
    }
  });
}

void DayPredictions::expected(double t_days, const std::vector<double>& p_alive, std::vector<double>& out) {
  out.resize(rfm_.size());
  if (!m_.bgnbd || !(t_days > 0)) {
    for_rows(rfm_.size(), [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) {
        const RfmRow& h = rfm_[r];
        if (h.first != kNoDay) out[r] = m_.expected_purchases(t_days, h.x, h.last - h.first, d_ - h.first);
      }
    });
    return;
  }
  // LifetimeModels::expected_purchases -> model::bgnbd_expected_purchases with times in its unit.
  const model::BgNbdParams& p = *m_.bgnbd;
  const double t = t_days / unit_;
  find_pairs();
  for_rows(pairs_.size(), [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const double x = static_cast<double>(pairs_[i] / width_), T = static_cast<double>(pairs_[i] % width_) / unit_;
      factor_[pairs_[i]] = model::bgnbd_expected_factor(p, t, x, T);
    }
  });
  for_rows(rfm_.size(), [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const RfmRow& h = rfm_[r];
      if (h.first == kNoDay) continue;
      const Days T = d_ - h.first;
      const double f = h.x <= memo_x_ ? factor_[static_cast<size_t>(h.x) * width_ + static_cast<size_t>(T)]
                                      : model::bgnbd_expected_factor(p, t, h.x, static_cast<double>(T) / unit_);
      out[r] = model::bgnbd_expected_of(f, p_alive[r]);
    }
  });
}

}  // namespace crm::engine
