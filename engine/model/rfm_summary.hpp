// Per-customer purchase summaries for the lifetime models (engine/model/): from the store's paid
// orders, the papers' (x, t_x, T) and mean spend as of a date, with the time unit stated.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/lifetime/lifetime_math.hpp"
#include "engine/store/timezone.hpp"
#include "lang/date.hpp"

namespace crm::engine {
class SqlSession;
}

namespace crm::model {

// TimeUnit (days or weeks) is in engine/lifetime/lifetime_math.hpp.
std::optional<TimeUnit> parse_unit(const std::string& s);

// The zone in which the store's timestamps become days: meta `timezone`, else UTC.
engine::TimeZone store_time_zone(engine::SqlSession& db);

// Every paid order as of a date, merged per customer and calendar day (the papers count the
// purchases of one customer on one day as one transaction; its value is the day's total).
struct PurchaseDays {
  std::vector<int64_t> customer_ids;  // ascending
  std::vector<size_t> begin;          // customer i's days are [begin[i], begin[i+1])
  std::vector<Days> days;             // ascending within a customer
  std::vector<double> spend;          // the day's total of the customer's paid orders
  Days first_day = 0, last_day = 0;   // over all rows (meaningless when empty)
  int64_t orders = 0;                 // paid orders read
  int64_t bad_rows = 0;               // paid orders with an unreadable ordered_at or total (skipped)
  size_t customers() const { return customer_ids.size(); }
};

// Reads orders with status 'paid' dated on or before `last_day` (all when unset), in the store's
// time zone (meta `timezone`, else UTC).
PurchaseDays load_purchase_days(engine::SqlSession& db, std::optional<Days> last_day = std::nullopt);

// One customer as the models see them at the end of calibration day E (first purchase on or
// before E): x = repeat purchase days in (first, E]; t_x = last purchase day - first, T = E - first,
// both in the unit; mean_spend = mean value of the repeat purchase days (0 when x = 0);
// holdout = purchase days after E up to the holdout end (0 without a holdout).
struct CustomerRfm {
  int64_t id = 0;
  Days first = 0;
  int x = 0;
  double t_x = 0, T = 0;
  double mean_spend = 0;
  int holdout = 0;
};

struct RfmSummary {
  TimeUnit unit = TimeUnit::weeks;
  Days calibration_end = 0;
  std::optional<Days> holdout_end;
  std::vector<CustomerRfm> customers;
};

RfmSummary summarize(const PurchaseDays& p, Days calibration_end, TimeUnit unit,
                     std::optional<Days> holdout_end = std::nullopt);

// The likelihood inputs, identical customers merged into one row with a weight (n customers
// with the same x, t_x, T), which makes a large store's fit much cheaper.
struct RfmData {
  std::vector<double> x, t_x, T, w;
  double customers = 0;  // sum of w
  // The distinct values of t_x and T, sorted, and each row's index into them (whole days or
  // sevenths of a week: about as many as the days of the store), so that a likelihood computes
  // log(alpha + t) once per value instead of twice per row. Empty: not indexed.
  std::vector<double> times;
  std::vector<uint32_t> t_x_at, T_at;
  size_t size() const { return x.size(); }
};
RfmData frequency_data(const RfmSummary& s);

// The Gamma-Gamma inputs: repeat buyers (x > 0) with a positive mean spend, merged likewise.
struct SpendData {
  std::vector<double> x, mean, w;
  std::vector<double> log_mean;  // log(mean), computed once (spend_data; empty: per evaluation)
  double customers = 0;
  int64_t left_out = 0;  // repeat buyers whose mean spend is zero or negative
  size_t size() const { return x.size(); }
};
SpendData spend_data(const RfmSummary& s);

}  // namespace crm::model
