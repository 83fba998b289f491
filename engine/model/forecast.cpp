// Future purchases drawn from BG/NBD and Gamma-Gamma (forecast.hpp). The draw is the models'
// own generative story conditioned on each customer's history (x, t_x, T) as of the last fact:
// alive with P(alive); then, given alive, lambda ~ Gamma(r + x, alpha + T) and
// p ~ Beta(a, b + x) (the posteriors: the likelihood of an alive customer is
// lambda^x e^(-lambda T) (1 - p)^x); purchases come as a Poisson process of rate lambda, and
// after each the customer drops out with probability p. Spend: nu ~ Gamma(p x + q, gamma + x m),
// each order's value ~ Gamma(p, nu).
#include "engine/model/forecast.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/frame/model_attributes.hpp"

namespace crm::model {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kNoonSeconds = 12 * 3600;  // drawn orders are placed at noon, local time

double gamma_draw(std::mt19937_64& rng, double shape, double rate) {
  if (!(shape > 0) || !(rate > 0) || !std::isfinite(shape) || !std::isfinite(rate)) return 0;
  return std::gamma_distribution<double>(shape, 1.0 / rate)(rng);
}

// The mean of the paid orders on or before `d` (0 without any).
double mean_paid_value(const engine::Facts& f, size_t r, Days d) {
  double sum = 0;
  int64_t n = 0;
  for (uint32_t k = f.order_offsets[r]; k < f.order_offsets[r + 1] && f.order_day[k] <= d; ++k)
    if (f.order_status[k] == engine::OrderStatus::Paid) {
      sum += f.order_total[k];
      ++n;
    }
  return n > 0 ? sum / static_cast<double>(n) : 0;
}

}  // namespace

std::vector<DrawnOrder> draw_future_orders(const engine::Facts& f, const LifetimeModels& m, Days last, Days to,
                                           uint64_t seed) {
  std::vector<DrawnOrder> out;
  if (!m.bgnbd || to <= last) return out;
  const BgNbdParams& b = *m.bgnbd;
  const double ud = unit_days(m.unit);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (size_t r = 0; r < f.rows(); ++r) {
    const engine::RfmRow h = engine::rfm_of(f, r, last);
    if (h.first == engine::kNoDay) continue;  // never bought: the models say nothing of them
    const double x = h.x, t_x = (h.last - h.first) / ud, T = (last - h.first) / ud;
    const double alive = bgnbd_p_alive(b, x, t_x, T);
    if (!(uniform(rng) < alive)) continue;  // NaN counts as gone
    const double lambda = gamma_draw(rng, b.r + x, b.alpha + T);  // purchases per unit
    const double g1 = gamma_draw(rng, b.a, 1), g2 = gamma_draw(rng, b.b + x, 1);
    const double p = g1 + g2 > 0 ? g1 / (g1 + g2) : 1;
    if (!(lambda > 0)) continue;
    double nu = 0, fallback = 0;
    if (m.gamma_gamma) {
      const GammaGammaParams& g = *m.gamma_gamma;
      // A zero or negative mean spend is no evidence for Gamma-Gamma (the fit leaves such
      // customers out): the population's prior then.
      const double xs = h.mean > 0 ? x : 0;
      nu = gamma_draw(rng, g.p * xs + g.q, g.gamma + xs * h.mean);
    }
    if (!(nu > 0)) fallback = std::max(0.0, mean_paid_value(f, r, last));
    std::exponential_distribution<double> gap(lambda);
    double t = 0;  // days after the end of `last`
    Days prev = last;
    while (true) {
      t += gap(rng) * ud;
      if (!(t < static_cast<double>(to - last))) break;
      const Days day = last + 1 + static_cast<Days>(std::floor(t));
      if (day > to) break;
      if (day != prev) {  // a second purchase on one day is the same purchase day
        double value = nu > 0 ? gamma_draw(rng, m.gamma_gamma->p, nu) : fallback;
        out.push_back({static_cast<uint32_t>(r), day, std::isfinite(value) ? value : fallback});
        prev = day;
      }
      if (uniform(rng) < p) break;  // dropped out after this purchase
    }
  }
  return out;
}

void add_orders(engine::Facts& f, const std::vector<DrawnOrder>& orders) {
  if (orders.empty()) return;
  const size_t rows = f.rows(), old_n = f.order_id.size(), n = old_n + orders.size();
  int64_t next_id = 1;
  for (int64_t id : f.order_id) next_id = std::max(next_id, id + 1);

  engine::Facts g;  // only the order vectors are built here
  g.order_offsets.reserve(rows + 1);
  g.order_id.reserve(n);
  g.order_day.reserve(n);
  g.order_local_seconds.reserve(n);
  g.order_total.reserve(n);
  g.order_status.reserve(n);
  g.order_row.reserve(n);
  g.item_offsets.reserve(n + 1);
  g.item_sku.reserve(f.item_sku.size());
  std::vector<uint32_t> old_to_new(old_n);
  std::vector<uint32_t> drawn_index;  // new index of each drawn order
  drawn_index.reserve(orders.size());
  g.order_offsets.push_back(0);
  g.item_offsets.push_back(0);
  size_t k = 0;
  for (size_t r = 0; r < rows; ++r) {
    for (uint32_t o = f.order_offsets[r]; o < f.order_offsets[r + 1]; ++o) {
      old_to_new[o] = static_cast<uint32_t>(g.order_id.size());
      g.order_id.push_back(f.order_id[o]);
      g.order_day.push_back(f.order_day[o]);
      g.order_local_seconds.push_back(f.order_local_seconds[o]);
      g.order_total.push_back(f.order_total[o]);
      g.order_status.push_back(f.order_status[o]);
      g.order_row.push_back(static_cast<uint32_t>(r));
      g.item_sku.insert(g.item_sku.end(), f.item_sku.begin() + f.item_offsets[o], f.item_sku.begin() + f.item_offsets[o + 1]);
      g.item_offsets.push_back(static_cast<uint32_t>(g.item_sku.size()));
    }
    for (; k < orders.size() && orders[k].row == r; ++k) {
      drawn_index.push_back(static_cast<uint32_t>(g.order_id.size()));
      g.order_id.push_back(next_id++);
      g.order_day.push_back(orders[k].day);
      g.order_local_seconds.push_back(static_cast<int64_t>(orders[k].day) * kSecondsPerDay + kNoonSeconds);
      g.order_total.push_back(orders[k].total);
      g.order_status.push_back(engine::OrderStatus::Paid);
      g.order_row.push_back(static_cast<uint32_t>(r));
      g.item_offsets.push_back(static_cast<uint32_t>(g.item_sku.size()));
    }
    g.order_offsets.push_back(static_cast<uint32_t>(g.order_id.size()));
  }
  // Every drawn order is dated after every stored one: the stored day order, then the drawn
  // ones by (day, id).
  std::vector<uint32_t> by_day;
  by_day.reserve(n);
  for (uint32_t o : f.orders_by_day) by_day.push_back(old_to_new[o]);
  std::sort(drawn_index.begin(), drawn_index.end(), [&](uint32_t a, uint32_t b) {
    return g.order_day[a] != g.order_day[b] ? g.order_day[a] < g.order_day[b] : g.order_id[a] < g.order_id[b];
  });
  by_day.insert(by_day.end(), drawn_index.begin(), drawn_index.end());

  f.order_offsets = std::move(g.order_offsets);
  f.order_id = std::move(g.order_id);
  f.order_day = std::move(g.order_day);
  f.order_local_seconds = std::move(g.order_local_seconds);
  f.order_total = std::move(g.order_total);
  f.order_status = std::move(g.order_status);
  f.order_row = std::move(g.order_row);
  f.item_offsets = std::move(g.item_offsets);
  f.item_sku = std::move(g.item_sku);
  f.orders_by_day = std::move(by_day);
}

}  // namespace crm::model
