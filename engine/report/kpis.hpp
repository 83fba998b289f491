// The shop's KPIs from the store's facts, as of a date (for `crm simulate` reports): monthly
// cohorts of first-time buyers (F2, 12-month repeat, retention, 12-month revenue per customer),
// the subscription retention curve, cancellation reasons, and the period's activity.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/facts.hpp"

namespace crm::engine {

// Cohorts shown: the months of first purchase ending with the month of the end date; two years,
// so that the 12-month figures of the older half are complete.
constexpr int kCohortMonths = 24;
// The F2 window: a second purchase within this many days of the first (a usual step-mail horizon).
constexpr int kF2WindowDays = 90;
// The repeat / revenue window of the "12-month" figures.
constexpr int kYearDays = 365;
// Month offsets of the cohort retention matrix (month 1 .. 12 after the first purchase month).
constexpr int kRetentionMonths = 12;
// Points of the subscription retention curve: after 0 .. 24 months.
constexpr int kCurveMonths = 24;

struct CohortKpi {
  int year = 0;
  unsigned month = 0;      // first purchase month
  int64_t customers = 0;   // first-time buyers of that month (first paid order)
  int64_t f2_window = 0;   // with a second paid order within kF2WindowDays of the first
  bool f2_window_complete = false;  // every member's window ended on or before the end date
  int64_t f2_ever = 0;     // with a second paid order on or before the end date
  int64_t repeat_year = 0; // with another paid order within kYearDays of the first
  double revenue_year = 0; // paid totals within kYearDays of the first purchase (first order included)
  bool year_complete = false;
  // retained[k - 1]: members with a paid order in calendar month (cohort month + k), k = 1..12;
  // only the first `retention_observed` months have ended by the end date.
  std::vector<int64_t> retained;
  int retention_observed = 0;

  std::string label() const;  // "2026-03"
};

struct CurvePoint {
  int months = 0;
  int64_t observed = 0;  // subscriptions started at least `months` months before the end date
  int64_t active = 0;    // of those, not cancelled by then
};

struct CancelReason {
  std::string reason;  // "(none given)" when null
  int64_t total = 0;   // cancellations on or before the end date
  int64_t in_period = 0;
};

// What happened in the shop during [from, to] (orders dated in the period, paid ones only).
struct PeriodKpi {
  int64_t orders = 0;
  double revenue = 0;
  int64_t buyers = 0;         // distinct customers with a paid order
  int64_t first_orders = 0;   // first purchases ever
  int64_t repeat_orders = 0;  // paid orders that were not the customer's first
  int64_t new_subscriptions = 0;
  int64_t cancellations = 0;
  int64_t active_subscriptions_start = 0;  // live on `from`
  int64_t active_subscriptions_end = 0;    // live on `to`
};

struct Kpis {
  Days from = 0, to = 0;
  PeriodKpi period;
  std::vector<CohortKpi> cohorts;  // oldest first, months without first-time buyers left out
  std::vector<CurvePoint> curve;   // months 0 .. kCurveMonths, points with no observed subscription left out
  int64_t subscriptions_unknown_cancel = 0;  // cancelled with no date: left out of the curve
  std::vector<CancelReason> reasons;  // most frequent first (ties: by name)
};

// Computes the KPIs using only facts dated on or before `to` (a backtest sees what the shop knew
// then). Reads `facts` only; thread-safe with other readers.
Kpis compute_kpis(const Facts& facts, Days from, Days to);

// `d` plus `n` calendar months, on the same day of the month or the last day of a shorter month.
Days add_months(Days d, int n);

}  // namespace crm::engine
