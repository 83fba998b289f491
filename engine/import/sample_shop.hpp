// The sample shop: a seeded, deterministic generator of a realistic Japanese D2C online shop
// (customers, orders, subscriptions, surveys, referrals, events, tags) written into a SQLite store.
// Used by `crm sample`, the README's main job, tests and benchmarks.
#pragma once
#include <cstdint>
#include <string>

#include "lang/date.hpp"

namespace crm::examples {

struct ShopOptions {
  int64_t customers = 10'000;
  uint64_t seed = 1;
  // The generated history ends on this date: no fact (order, survey, event, ...) is later.
  Days as_of = days_from_civil(2026, 11, 24);
  // Mean orders per customer (all customers, buyers or not). 0 keeps the realistic mix (~1.8);
  // a larger value (up to kMaxOrdersPerCustomer) makes buyers repeat more often and for longer,
  // e.g. 10 for store-scale benchmarks (1M customers, ~10M orders).
  double orders_per_customer = 0;
};

// Beyond this, orders would have to be days apart for the shop's three-year history.
constexpr double kMaxOrdersPerCustomer = 30;

// Row counts of what was written, per table.
struct ShopCounts {
  int64_t customers = 0;
  int64_t products = 0;
  int64_t orders = 0;
  int64_t order_items = 0;
  int64_t subscriptions = 0;
  int64_t surveys = 0;
  int64_t referrals = 0;
  int64_t events = 0;
  int64_t tags = 0;
};

// Creates the store's tables if needed and fills them, in one transaction. The same options
// give byte-identical table contents on every platform (the random distributions are ours,
// not std::*_distribution). Throws std::runtime_error (or SQLite::Exception) when the store
// cannot be written or already holds customers.
ShopCounts generate_shop(const std::string& db_path, const ShopOptions& options);

}  // namespace crm::examples
