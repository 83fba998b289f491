// Future purchases drawn from the fitted lifetime models (`crm simulate --forecast`,
// docs/lifetime.md): each buyer's purchase days after the store's last fact from BG/NBD
// (alive or not, purchase rate and drop-out probability from their posteriors) and the order
// values from Gamma-Gamma, added to the facts as paid orders so a forward simulation sees them.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/lifetime/lifetime_models.hpp"
#include "engine/store/facts.hpp"

namespace crm::model {

// One drawn order: the customer row, its day and total.
struct DrawnOrder {
  uint32_t row = 0;
  Days day = 0;
  double total = 0;
};

// The orders of the customers with a paid order on or before `last` over the days (last, to],
// drawn with `seed` (the same seed, facts and models give the same orders). Needs m.bgnbd;
// values from m.gamma_gamma when fitted, else each customer's mean paid order value. Sorted
// by (row, day); at most one order per customer and day (the models count purchase days).
std::vector<DrawnOrder> draw_future_orders(const engine::Facts& facts, const LifetimeModels& m, Days last, Days to,
                                           uint64_t seed);

// Adds `orders` (sorted by row, then day; every day after the facts' last order) to `facts` as
// paid orders without items, keeping every order index (CSR by row, orders_by_day) consistent.
void add_orders(engine::Facts& facts, const std::vector<DrawnOrder>& orders);

}  // namespace crm::model
