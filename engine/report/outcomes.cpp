// Outcomes: who was exposed to each campaign and rule (first action per customer, treated or
// held out), what each arm bought within the window after that day, and the uplift intervals.
#include "engine/report/outcomes.hpp"

#include <algorithm>
#include <cmath>

namespace crm::engine {
namespace {

constexpr double kZ975 = 1.959963984540054;  // the 0.975 quantile of the standard normal

std::string rule_key(const std::string& name) { return "r:" + name; }
std::string campaign_key(const std::string& name) { return "c:" + name; }

}  // namespace

double t975(double df) {
  if (!(df >= 1)) df = 1;
  if (std::isinf(df)) return kZ975;
  // Cornish–Fisher expansion of Student's t quantile around the normal one (Abramowitz and
  // Stegun 26.7.5), four terms.
  const double z = kZ975, z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  const double g1 = (z3 + z) / 4;
  const double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
  const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
  const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
  return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}

Uplift proportion_uplift(int64_t x1, int64_t n1, int64_t x2, int64_t n2) {
  Uplift u;
  if (n1 <= 0 || n2 <= 0) return u;
  auto share = [](double x, double n) { return x / n; };
  u.diff = share(static_cast<double>(x1), static_cast<double>(n1)) - share(static_cast<double>(x2), static_cast<double>(n2));
  // Agresti–Caffo: one success and one failure added to each arm before the Wald interval, which
  // brings its coverage close to 95 % even for small arms and rates near 0 or 1.
  double m1 = static_cast<double>(n1) + 2, m2 = static_cast<double>(n2) + 2;
  double q1 = share(static_cast<double>(x1) + 1, m1), q2 = share(static_cast<double>(x2) + 1, m2);
  double se = std::sqrt(q1 * (1 - q1) / m1 + q2 * (1 - q2) / m2);
  u.low = (q1 - q2) - kZ975 * se;
  u.high = (q1 - q2) + kZ975 * se;
  return u;
}

Uplift welch_uplift(double sum1, double sumsq1, int64_t n1, double sum2, double sumsq2, int64_t n2) {
  Uplift u;
  if (n1 <= 0 || n2 <= 0) return u;
  auto var = [](double s, double sq, int64_t n) {
    if (n < 2) return 0.0;
    double dn = static_cast<double>(n), m = s / dn;
    return std::max(0.0, (sq - dn * m * m) / (dn - 1));
  };
  double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  double v1 = var(sum1, sumsq1, n1) / d1, v2 = var(sum2, sumsq2, n2) / d2;
  u.diff = sum1 / d1 - sum2 / d2;
  double se = std::sqrt(v1 + v2);
  if (se == 0) {
    u.low = u.high = u.diff;
    return u;
  }
  double df = (v1 + v2) * (v1 + v2) /
              ((n1 > 1 ? v1 * v1 / (d1 - 1) : 0) + (n2 > 1 ? v2 * v2 / (d2 - 1) : 0));
  double t = t975(df);
  u.low = u.diff - t * se;
  u.high = u.diff + t * se;
  return u;
}

OutcomesAccumulator::OutcomesAccumulator(const lang::CheckedProgram& program, const Facts& facts, Days from, Days to)
    : program_(program), facts_(facts), from_(from), to_(to) {
  // Campaigns in the order their first rule is declared, each followed by its rules; then the
  // rules outside campaigns take their place among them by declaration order.
  for (const auto& r : program.rules) {
    for (size_t k = 0; k < r.campaigns.size(); ++k) {
      std::string name;
      for (size_t j = 0; j <= k; ++j) name += (j ? "." : "") + r.campaigns[j];
      std::string key = campaign_key(name);
      if (group_index_.count(key)) continue;
      group_index_[key] = groups_.size();
      Group g;
      g.name = name;
      g.campaign = true;
      g.holdout_pct = r.holdout_key == name ? r.holdout_pct : 0;
      groups_.push_back(std::move(g));
      order_.push_back(key);
    }
    std::string key = rule_key(r.name);
    if (group_index_.count(key)) continue;
    group_index_[key] = groups_.size();
    Group g;
    g.name = r.name;
    g.holdout_pct = r.holdout_pct;
    groups_.push_back(std::move(g));
    order_.push_back(key);
  }
}

std::vector<size_t> OutcomesAccumulator::groups_of(const std::string& rule_name) {
  auto it = rule_groups_.find(rule_name);
  if (it != rule_groups_.end()) return it->second;
  std::vector<size_t> out;
  std::string key = rule_key(rule_name);
  auto g = group_index_.find(key);
  if (g == group_index_.end()) {  // an outbox row of a rule no longer in the script
    g = group_index_.emplace(key, groups_.size()).first;
    Group ng;
    ng.name = rule_name;
    groups_.push_back(std::move(ng));
    order_.push_back(key);
  }
  out.push_back(g->second);
  if (const lang::FlatRule* fr = program_.find_rule(rule_name)) {
    std::string name;
    for (size_t j = 0; j < fr->campaigns.size(); ++j) {
      name += (j ? "." : "") + fr->campaigns[j];
      auto c = group_index_.find(campaign_key(name));
      if (c != group_index_.end()) out.push_back(c->second);
    }
  }
  rule_groups_[rule_name] = out;
  return out;
}

void OutcomesAccumulator::expose(size_t row, Days day, bool held_out, bool outbox, const std::string& coupon,
                                 const std::string& rule_name) {
  for (size_t g : groups_of(rule_name)) {
    auto [it, fresh] = groups_[g].customers.try_emplace(static_cast<uint32_t>(row));
    Exposure& e = it->second;
    if (fresh || day < e.day || (day == e.day && outbox && !e.outbox)) {
      bool keep_coupons = !fresh && day == e.day;
      e.day = day;
      e.held_out = held_out;
      e.outbox = outbox;
      if (!keep_coupons) e.coupons.clear();
    }
    if (e.day == day && !coupon.empty() && !held_out &&
        std::find(e.coupons.begin(), e.coupons.end(), coupon) == e.coupons.end())
      e.coupons.push_back(coupon);
  }
}

void OutcomesAccumulator::add(const ActionOut& a) {
  if (a.date < from_ || a.date > to_) return;
  auto row = facts_.row_of(a.customer);
  if (!row) return;
  std::string coupon = a.kind == lang::ActionKind::Coupon ? std::string(a.target) : std::string();
  expose(*row, a.date, a.status == Status::HeldOut, false, coupon, std::string(a.rule_name));
}

void OutcomesAccumulator::add_outbox(const Facts::OutboxEntry& e) {
  if (e.run_date < from_ || e.run_date > to_ || e.row < 0) return;
  expose(static_cast<size_t>(e.row), e.run_date, false, true, e.action == "coupon" ? e.target : std::string(), e.rule);
}

OutcomesResult OutcomesAccumulator::finish(int window, int64_t min_customers,
                                           const std::unordered_map<int64_t, std::string>* coupons) const {
  OutcomesResult r;
  r.from = from_;
  r.to = to_;
  r.window = window;
  r.min_customers = min_customers;
  r.has_coupons = coupons && !coupons->empty();
  if (!facts_.orders_by_day.empty()) r.data_end = facts_.order_day[facts_.orders_by_day.back()];
  for (const std::string& key : order_) {
    const Group& g = groups_[group_index_.at(key)];
    if (g.customers.empty()) continue;
    OutcomeRow row;
    row.name = g.name;
    row.campaign = g.campaign;
    row.holdout_pct = g.holdout_pct;
    // Customers in row order, so sums (and their rounding) do not depend on hash order.
    std::vector<std::pair<uint32_t, const Exposure*>> list;
    list.reserve(g.customers.size());
    for (const auto& [c, e] : g.customers) list.emplace_back(c, &e);
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [c, e] : list) {
      OutcomeArm& arm = e->held_out ? row.held_out : row.treated;
      const Days d = e->day, end = d + window;
      if (r.data_end == kNoDay || end > r.data_end) row.cut_windows++;
      int64_t before = 0, orders = 0;
      double revenue = 0;
      bool redeemed = false;
      for (uint32_t o = facts_.order_offsets[c]; o < facts_.order_offsets[c + 1]; ++o) {
        if (facts_.order_status[o] != OrderStatus::Paid) continue;
        Days od = facts_.order_day[o];
        if (od <= d) {
          ++before;
        } else if (od <= end) {
          ++orders;
          revenue += facts_.order_total[o];
          if (coupons && !e->coupons.empty()) {
            auto it = coupons->find(facts_.order_id[o]);
            if (it != coupons->end() && std::find(e->coupons.begin(), e->coupons.end(), it->second) != e->coupons.end())
              redeemed = true;
          }
        }
      }
      arm.customers++;
      arm.converted += orders > 0;
      arm.orders += orders;
      arm.revenue += revenue;
      arm.revenue_sq += revenue * revenue;
      if (before == 1) {
        arm.first_buyers++;
        arm.f2 += orders > 0;
      }
      if (!e->coupons.empty()) {
        arm.coupon_customers++;
        arm.coupon_redeemed += redeemed;
      }
      arm.from_outbox += e->outbox;
    }
    const OutcomeArm &t = row.treated, &h = row.held_out;
    if (t.customers >= min_customers && h.customers >= min_customers) {
      row.conversion = proportion_uplift(t.converted, t.customers, h.converted, h.customers);
      row.revenue_per_customer = welch_uplift(t.revenue, t.revenue_sq, t.customers, h.revenue, h.revenue_sq, h.customers);
    }
    if (t.first_buyers >= min_customers && h.first_buyers >= min_customers)
      row.f2 = proportion_uplift(t.f2, t.first_buyers, h.f2, h.first_buyers);
    r.rows.push_back(std::move(row));
  }
  return r;
}

}  // namespace crm::engine
