// crm sample --db FILE [--customers N] [--seed S] [--as-of DATE] [--orders-per-customer X]: writes the sample shop
// (engine/import/sample_shop.cpp) into a new SQLite store, for trying scripts and simulations.
#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/import/staging.hpp"
#include "engine/import/sample_shop.hpp"

namespace crm::cli {
namespace {

constexpr int64_t kMaxCustomers = 100'000'000;  // beyond this the file outgrows a laptop's disk

template <typename T>
bool parse_whole(const std::string& s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

int cmd_sample(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm sample --db FILE [--customers N] [--seed S] [--as-of DATE]\n"
      "                      [--orders-per-customer X]\n\n"
      "Writes a realistic sample online shop (a Japanese skincare D2C brand: customers,\n"
      "orders, subscriptions, surveys, referrals, events, tags) into a new SQLite store.\n"
      "The same seed always gives the same shop. No fact is dated after --as-of.\n\n"
      "Options:\n"
      "  --db FILE        the store to write: a new file, or a store without customers\n"
      "  --customers N    number of customers (default 10000)\n"
      "  --seed S         random seed, a non-negative integer (default 1)\n"
      "  --as-of DATE     the last day of the shop's history, YYYY-MM-DD (default 2026-11-24)\n"
      "  --orders-per-customer X\n"
      "                   mean orders per customer, for load tests: more and longer-lived\n"
      "                   repeat buyers (default: the realistic mix, about 1.8)\n"
      "  --help           show this help\n\n"
      "Exit codes: 0 ok, 1 the store could not be written or already holds customers,\n"
      "2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{}, {"--db", "--customers", "--seed", "--as-of", "--orders-per-customer"}}, error);
  if (!args) return usage_error("sample", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (!args->positional.empty()) return usage_error("sample", "unexpected argument '" + args->positional[0] + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("sample", "--db FILE is required");
  examples::ShopOptions options;
  if (auto n = args->option("--customers")) {
    if (!parse_whole(*n, options.customers) || options.customers < 0 || options.customers > kMaxCustomers)
      return usage_error("sample", fmt::format("--customers expects a whole number from 0 to {}, not '{}'", kMaxCustomers, *n));
  }
  if (auto s = args->option("--seed")) {
    if (!parse_whole(*s, options.seed)) return usage_error("sample", "--seed expects a non-negative integer, not '" + *s + "'");
  }
  if (auto d = args->option("--as-of")) {
    auto day = parse_date(*d);
    if (!day) return usage_error("sample", "--as-of expects a date YYYY-MM-DD, not '" + *d + "'");
    options.as_of = *day;
  }
  if (auto x = args->option("--orders-per-customer")) {
    char* end = nullptr;
    double v = std::strtod(x->c_str(), &end);
    if (x->empty() || end != x->c_str() + x->size() || !(v > 0 && v <= examples::kMaxOrdersPerCustomer))
      return usage_error("sample", fmt::format("--orders-per-customer expects a number above 0 and at most {}, not '{}'",
                                               examples::kMaxOrdersPerCustomer, *x));
    options.orders_per_customer = v;
  }
  auto start = std::chrono::steady_clock::now();
  examples::ShopCounts c = examples::fill_any_store(*db, [&](const std::string& path) { return examples::generate_shop(path, options); });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr,
             "wrote {}: {} customers, {} orders ({} items), {} subscriptions, {} surveys, {} referrals, "
             "{} events, {} tags, {} products as of {} in {:.1f} s\n",
             shown_location(*db), c.customers, c.orders, c.order_items, c.subscriptions, c.surveys, c.referrals, c.events, c.tags,
             c.products, format_date(options.as_of), seconds);
  return kExitOk;
}

}  // namespace crm::cli
