// Reading paid orders into purchase days, and the per-customer (x, t_x, T, mean spend) summary.
#include "engine/model/rfm_summary.hpp"

#include "engine/store/sql_session.hpp"

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

engine::TimeZone store_time_zone(engine::SqlSession& db) {
  std::optional<std::string> name;
  db.query("SELECT value FROM meta WHERE key = 'timezone'", [&](const engine::SqlRow& r) {
    if (!r.null(0)) name = r.text(0);
  });
  std::string error;
  if (name)
    if (auto tz = engine::TimeZone::load(*name, error)) return *tz;
  return engine::TimeZone();
}

namespace {

struct Row {
  int64_t customer;
  Days day;
  double spend;
};

}  // namespace

PurchaseDays load_purchase_days(engine::SqlSession& db, std::optional<Days> last_day) {
  engine::TimeZone tz = store_time_zone(db);
  std::vector<Row> rows;
  PurchaseDays out;
  // Room for every order up front (the largest id bounds their number where ids are dense): a
  // vector of ~10M rows grown by doubling would copy and fault in 2-3 times its size. Only the
  // pages used are touched, so a sparse id range costs address space, not memory.
  db.query("SELECT max(id) FROM orders", [&](const engine::SqlRow& q) {
    if (!q.null(0) && q.type(0) == engine::SqlValue::Type::Int && q.i64(0) > 0)
      rows.reserve(static_cast<size_t>(std::min<int64_t>(q.i64(0), int64_t{1} << 28)));
  });
  // In id order (SQLite's rowid order), so a day's totals add up in the same order on both backends.
  db.query("SELECT customer_id, ordered_at, total FROM orders WHERE status = 'paid' ORDER BY id", [&](const engine::SqlRow& q) {
    ++out.orders;
    if (q.null(0) || q.null(1) || q.null(2)) { ++out.bad_rows; return; }
    std::optional<engine::LocalTime> t;
    if (q.type(1) == engine::SqlValue::Type::Int) t = engine::local_time_of_epoch(q.i64(1), tz);
    else t = engine::parse_timestamp(q.text(1), tz);
    double v = q.f64(2);
    if (!t || !std::isfinite(v)) { ++out.bad_rows; return; }
    if (last_day && t->day > *last_day) return;
    rows.push_back({q.i64(0), t->day, v});
  });
  out.days.reserve(rows.size());
  out.spend.reserve(rows.size());
  auto by_customer_day = [](const Row& a, const Row& b) { return std::tie(a.customer, a.day) < std::tie(b.customer, b.day); };
  if (!std::is_sorted(rows.begin(), rows.end(), by_customer_day)) std::stable_sort(rows.begin(), rows.end(), by_customer_day);
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
  d.times = d.t_x;
  d.times.insert(d.times.end(), d.T.begin(), d.T.end());
  std::sort(d.times.begin(), d.times.end());
  d.times.erase(std::unique(d.times.begin(), d.times.end()), d.times.end());
  auto at = [&](double v) { return static_cast<uint32_t>(std::lower_bound(d.times.begin(), d.times.end(), v) - d.times.begin()); };
  d.t_x_at.reserve(d.size());
  d.T_at.reserve(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    d.t_x_at.push_back(at(d.t_x[i]));
    d.T_at.push_back(at(d.T[i]));
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
