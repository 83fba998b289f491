// Reading paid orders into purchase days, and the per-customer (x, t_x, T, mean spend) summary.
#include "engine/model/rfm_summary.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "engine/store/timezone.hpp"

namespace crm::model {

std::optional<TimeUnit> parse_unit(const std::string& s) {
  if (s == "days" || s == "day") return TimeUnit::days;
  if (s == "weeks" || s == "week") return TimeUnit::weeks;
  return std::nullopt;
}

engine::TimeZone store_time_zone(SQLite::Database& db) {
  SQLite::Statement q(db, "SELECT value FROM meta WHERE key = 'timezone'");
  if (q.executeStep() && !q.getColumn(0).isNull()) {
    std::string error;
    if (auto tz = engine::TimeZone::load(q.getColumn(0).getString(), error)) return *tz;
  }
  return engine::TimeZone();
}

namespace {

struct Row {
  int64_t customer;
  Days day;
  double spend;
};

}  // namespace

PurchaseDays load_purchase_days(SQLite::Database& db, std::optional<Days> last_day) {
  engine::TimeZone tz = store_time_zone(db);
  std::vector<Row> rows;
  PurchaseDays out;
  SQLite::Statement q(db, "SELECT customer_id, ordered_at, total FROM orders WHERE status = 'paid'");
  while (q.executeStep()) {
    ++out.orders;
    auto c = q.getColumn(0), at = q.getColumn(1), total = q.getColumn(2);
    if (c.isNull() || at.isNull() || total.isNull()) { ++out.bad_rows; continue; }
    std::optional<engine::LocalTime> t;
    if (at.isInteger()) t = engine::local_time_of_epoch(at.getInt64(), tz);
    else t = engine::parse_timestamp(at.getText(), tz);
    double v = total.getDouble();
    if (!t || !std::isfinite(v)) { ++out.bad_rows; continue; }
    if (last_day && t->day > *last_day) continue;
    rows.push_back({c.getInt64(), t->day, v});
  }
  auto by_customer_day = [](const Row& a, const Row& b) { return std::tie(a.customer, a.day) < std::tie(b.customer, b.day); };
  if (!std::is_sorted(rows.begin(), rows.end(), by_customer_day)) std::sort(rows.begin(), rows.end(), by_customer_day);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    bool new_customer = out.customer_ids.empty() || out.customer_ids.back() != r.customer;
    if (new_customer) {
      out.customer_ids.push_back(r.customer);
      out.begin.push_back(out.days.size());
    }
    if (!new_customer && out.days.back() == r.day) {
      out.spend.back() += r.spend;
    } else {
      out.days.push_back(r.day);
      out.spend.push_back(r.spend);
    }
  }
  out.begin.push_back(out.days.size());
  if (!rows.empty()) {
    out.first_day = std::min_element(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.day < b.day; })->day;
    out.last_day = std::max_element(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.day < b.day; })->day;
  }
  return out;
}

RfmSummary summarize(const PurchaseDays& p, Days calibration_end, TimeUnit unit, std::optional<Days> holdout_end) {
  RfmSummary s;
  s.unit = unit;
  s.calibration_end = calibration_end;
  s.holdout_end = holdout_end;
  const double per = unit_days(unit);
  for (size_t i = 0; i < p.customers(); ++i) {
    size_t b = p.begin[i], e = p.begin[i + 1];
    if (b == e || p.days[b] > calibration_end) continue;
    CustomerRfm c;
    c.id = p.customer_ids[i];
    c.first = p.days[b];
    Days last = c.first;
    double repeat_spend = 0;
    for (size_t k = b + 1; k < e; ++k) {
      if (p.days[k] <= calibration_end) {
        ++c.x;
        last = p.days[k];
        repeat_spend += p.spend[k];
      } else if (holdout_end && p.days[k] <= *holdout_end) {
        ++c.holdout;
      }
    }
    c.t_x = (last - c.first) / per;
    c.T = (calibration_end - c.first) / per;
    c.mean_spend = c.x > 0 ? repeat_spend / c.x : 0;
    s.customers.push_back(c);
  }
  return s;
}

RfmData frequency_data(const RfmSummary& s) {
  // Sorting and merging equal rows: the map this replaces was several times slower at 1M rows.
  std::vector<std::tuple<int, double, double>> keys;
  keys.reserve(s.customers.size());
  for (const auto& c : s.customers) keys.emplace_back(c.x, c.t_x, c.T);
  std::sort(keys.begin(), keys.end());
  RfmData d;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    d.x.push_back(std::get<0>(keys[i]));
    d.t_x.push_back(std::get<1>(keys[i]));
    d.T.push_back(std::get<2>(keys[i]));
    d.w.push_back(static_cast<double>(j - i));
    d.customers += static_cast<double>(j - i);
    i = j;
  }
  return d;
}

SpendData spend_data(const RfmSummary& s) {
  std::vector<std::pair<int, double>> keys;
  SpendData d;
  for (const auto& c : s.customers) {
    if (c.x == 0) continue;
    if (!(c.mean_spend > 0)) { ++d.left_out; continue; }
    keys.emplace_back(c.x, c.mean_spend);
  }
  std::sort(keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    d.x.push_back(keys[i].first);
    d.mean.push_back(keys[i].second);
    d.log_mean.push_back(std::log(keys[i].second));
    d.w.push_back(static_cast<double>(j - i));
    d.customers += static_cast<double>(j - i);
    i = j;
  }
  return d;
}

}  // namespace crm::model
