// Lookups over the in-memory facts: customer id -> row, the orders and events of one day, and
// the extra customer columns as checker attributes.
#include "engine/store/facts.hpp"

#include <algorithm>

namespace crm::engine {

std::optional<size_t> Facts::row_of(int64_t id) const {
  // Ids are often dense (1..N): try the row the id would have then, before searching.
  if (!customer_id.empty()) {
    uint64_t guess = static_cast<uint64_t>(id) - static_cast<uint64_t>(customer_id.front());
    if (guess < customer_id.size() && customer_id[guess] == id) return static_cast<size_t>(guess);
  }
  auto it = std::lower_bound(customer_id.begin(), customer_id.end(), id);
  if (it == customer_id.end() || *it != id) return std::nullopt;
  return static_cast<size_t>(it - customer_id.begin());
}

std::pair<size_t, size_t> Facts::orders_on(Days d) const {
  auto lo = std::partition_point(orders_by_day.begin(), orders_by_day.end(), [&](uint32_t o) { return order_day[o] < d; });
  auto hi = std::partition_point(lo, orders_by_day.end(), [&](uint32_t o) { return order_day[o] <= d; });
  return {static_cast<size_t>(lo - orders_by_day.begin()), static_cast<size_t>(hi - orders_by_day.begin())};
}

std::pair<size_t, size_t> Facts::events_on(Days d) const {
  auto lo = std::lower_bound(event_day.begin(), event_day.end(), d);
  auto hi = std::upper_bound(lo, event_day.end(), d);
  return {static_cast<size_t>(lo - event_day.begin()), static_cast<size_t>(hi - event_day.begin())};
}

std::vector<lang::CheckOptions::Extra> Facts::extra_attributes() const {
  std::vector<lang::CheckOptions::Extra> out;
  for (const auto& e : extra) out.push_back({e.name, e.type});
  return out;
}

}  // namespace crm::engine
