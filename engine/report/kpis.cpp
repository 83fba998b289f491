// KPIs from the facts: one pass over each customer's orders for cohorts and the period, one
// pass over subscriptions for the retention curve and cancellation reasons.
#include "engine/report/kpis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace crm::engine {
namespace {

int month_index(Days d) {
  Ymd ymd = civil_from_days(d);
  return ymd.y * 12 + static_cast<int>(ymd.m) - 1;
}

Days month_first_day(int mi) { return days_from_civil(mi / 12, static_cast<unsigned>(mi % 12) + 1, 1); }
Days month_last_day(int mi) { return month_first_day(mi + 1) - 1; }

void cohorts_and_period(const Facts& f, Kpis& k) {
  const int last_mi = month_index(k.to), first_mi = last_mi - (kCohortMonths - 1);
  std::vector<CohortKpi> cohorts(kCohortMonths);
  for (int i = 0; i < kCohortMonths; ++i) {
    CohortKpi& c = cohorts[static_cast<size_t>(i)];
    int mi = first_mi + i;
    c.year = mi / 12;
    c.month = static_cast<unsigned>(mi % 12) + 1;
    c.retained.assign(kRetentionMonths, 0);
    c.f2_window_complete = month_last_day(mi) + kF2WindowDays <= k.to;
    c.year_complete = month_last_day(mi) + (kYearDays - 1) <= k.to;
    while (c.retention_observed < kRetentionMonths && month_last_day(mi + c.retention_observed + 1) <= k.to)
      c.retention_observed++;
  }
  std::vector<uint8_t> seen_month(kRetentionMonths + 1);
  for (size_t r = 0; r < f.rows(); ++r) {
    Days first = kNoDay, second = kNoDay;
    int cohort = -1;
    bool bought_in_period = false;
    std::fill(seen_month.begin(), seen_month.end(), 0);
    for (uint32_t o = f.order_offsets[r], end = f.order_offsets[r + 1]; o < end && f.order_day[o] <= k.to; ++o) {
      if (f.order_status[o] != OrderStatus::Paid) continue;
      const Days d = f.order_day[o];
      const bool is_first = first == kNoDay;
      if (is_first) {
        first = d;
        int mi = month_index(d);
        if (mi >= first_mi && mi <= last_mi) cohort = mi - first_mi;
      } else if (second == kNoDay) {
        second = d;
      }
      if (d >= k.from) {
        k.period.orders++;
        k.period.revenue += f.order_total[o];
        (is_first ? k.period.first_orders : k.period.repeat_orders)++;
        bought_in_period = true;
      }
      if (cohort < 0) continue;
      CohortKpi& c = cohorts[static_cast<size_t>(cohort)];
      if (d - first < kYearDays) c.revenue_year += f.order_total[o];
      int offset = month_index(d) - (first_mi + cohort);
      if (offset >= 1 && offset <= kRetentionMonths && !seen_month[static_cast<size_t>(offset)]) {
        seen_month[static_cast<size_t>(offset)] = 1;
        if (offset <= c.retention_observed) c.retained[static_cast<size_t>(offset - 1)]++;
      }
    }
    if (bought_in_period) k.period.buyers++;
    if (cohort < 0) continue;
    CohortKpi& c = cohorts[static_cast<size_t>(cohort)];
    c.customers++;
    if (second != kNoDay) {
      c.f2_ever++;
      if (second - first <= kF2WindowDays) c.f2_window++;
      if (second - first < kYearDays) c.repeat_year++;
    }
  }
  for (auto& c : cohorts)
    if (c.customers > 0) k.cohorts.push_back(std::move(c));
}

void subscriptions(const Facts& f, Kpis& k) {
  const int64_t cancelled_id = f.strings->find("cancelled"), canceled_id = f.strings->find("canceled");
  const int64_t active_id = f.strings->find("active");
  std::vector<CurvePoint> curve(kCurveMonths + 1);
  for (int n = 0; n <= kCurveMonths; ++n) curve[static_cast<size_t>(n)].months = n;
  std::map<std::string, CancelReason> reasons;
  for (size_t i = 0; i < f.sub_start.size(); ++i) {
    const Days start = f.sub_start[i];
    if (start == kNoDay || start > k.to) continue;
    const Days c = f.sub_cancelled[i];
    const int64_t st = f.sub_status[i];
    const bool status_cancelled = st >= 0 && (st == cancelled_id || st == canceled_id);
    const bool unknown_date = c == kNoDay && status_cancelled;
    auto cancelled_by = [&](Days t) { return unknown_date || (c != kNoDay && c <= t); };
    // Live on a day as the subscription.active attribute sees it: status active, or cancelled later.
    auto live_on = [&](Days t) {
      if (start > t || cancelled_by(t)) return false;
      return (st >= 0 && st == active_id) || (status_cancelled && c != kNoDay);
    };
    if (start >= k.from) k.period.new_subscriptions++;
    if (live_on(k.from)) k.period.active_subscriptions_start++;
    if (live_on(k.to)) k.period.active_subscriptions_end++;
    if (cancelled_by(k.to)) {
      std::string reason = f.sub_cancel_reason[i] >= 0 ? std::string(f.strings->get(f.sub_cancel_reason[i])) : "(none given)";
      CancelReason& cr = reasons[reason];
      cr.reason = reason;
      cr.total++;
      if (c != kNoDay && c >= k.from) {
        cr.in_period++;
        k.period.cancellations++;
      }
    }
    if (unknown_date) {
      k.subscriptions_unknown_cancel++;
      continue;
    }
    for (int n = 0; n <= kCurveMonths; ++n) {
      Days t = add_months(start, n);
      if (t > k.to) break;
      CurvePoint& p = curve[static_cast<size_t>(n)];
      p.observed++;
      if (!cancelled_by(t)) p.active++;
    }
  }
  for (auto& p : curve)
    if (p.observed > 0) k.curve.push_back(p);
  for (auto& [name, r] : reasons) k.reasons.push_back(std::move(r));
  std::stable_sort(k.reasons.begin(), k.reasons.end(),
                   [](const CancelReason& a, const CancelReason& b) { return a.total > b.total; });
}

}  // namespace

std::string CohortKpi::label() const { return fmt::format("{:04}-{:02}", year, month); }

Days add_months(Days d, int n) {
  Ymd ymd = civil_from_days(d);
  int mi = ymd.y * 12 + static_cast<int>(ymd.m) - 1 + n;
  int y = mi / 12;
  unsigned m = static_cast<unsigned>(mi % 12) + 1;
  return days_from_civil(y, m, std::min(ymd.d, days_in_month(y, m)));
}

Kpis compute_kpis(const Facts& facts, Days from, Days to) {
  Kpis k;
  k.from = from;
  k.to = to;
  cohorts_and_period(facts, k);
  subscriptions(facts, k);
  return k;
}

}  // namespace crm::engine
