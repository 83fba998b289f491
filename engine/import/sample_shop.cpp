// The sample shop generator (see generator.hpp): one pass over customers in sign-up order, each
// with a small history (orders, subscription, surveys, events) drawn from a seeded mt19937_64,
// written through reused prepared statements inside one transaction.
#include "engine/import/sample_shop.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/import/sample_shop_data.hpp"
#include "engine/store/store.hpp"
#include "engine/import/empty_store.hpp"
#include "engine/store/fact_writer.hpp"

namespace crm::examples {
namespace {

// ---------------------------------------------------------------- the shape of the shop
constexpr const char* kShopTimeZone = "Asia/Tokyo";
constexpr int kHistoryDays = 3 * 365;        // the shop opened about three years before as_of
constexpr double kSignupGrowth = 1.6;        // cumulative sign-ups ~ t^1.6: the shop is growing
constexpr double kBuyerRate = 0.86;          // share of sign-ups that ever order
constexpr double kReferredBuyerRate = 0.95;  // referred friends buy more often
constexpr double kReferredRate = 0.06;       // share of sign-ups that came through a referral
constexpr double kSubscriberRate = 0.25;     // share of buyers that start a subscription
constexpr double kCancelledRate = 0.03;      // order status mix
constexpr double kRefundedRate = 0.02;
constexpr double kSurveyRate = 1.0 / 3.0;    // buyers who answer the satisfaction survey
constexpr double kNullBirthdayRate = 0.15;
constexpr int kMaxOrdersPerChain = 40;       // a bound on one customer's one-off orders
constexpr double kVipSpent = 60'000;         // yen of paid orders that earn the vip tag
constexpr int kVipOrders = 8;
// Chance of a next one-off order after the k-th (k = 1, 2, 3, 4+): F2 is driven by the first.
constexpr std::array<double, 4> kRepeatRate = {0.12, 0.45, 0.55, 0.65};
// With ShopOptions::orders_per_customer: loyal repeat buyers. Each one-off order is followed by
// another with this chance, after at least kIntenseMinGap days plus an exponential wait whose
// mean is chosen so that the whole shop averages the requested orders per customer.
constexpr double kIntenseRepeat = 0.96;
constexpr int kMaxOrdersPerIntenseChain = 400;  // a bound on one loyal customer's one-off orders
constexpr double kIntenseMinGap = 7;
// Calibration of the mean wait (see intense_gap()): orders per customer besides the one-off chain
// (subscription boxes less the first one-offs they replace) and buyers per customer, measured.
constexpr double kOtherOrdersPerCustomer = 0.89 - 0.11;
constexpr double kBuyersPerCustomer = 0.865;
// Chance a subscription continues after its k-th delivery (k = 1, 2, 3+).
constexpr std::array<double, 3> kContinueRate = {0.58, 0.78, 0.90};

// ---------------------------------------------------------------- a portable random source
// std::*_distribution output differs between standard libraries; these draws do not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t below(int64_t n) { return static_cast<int64_t>(uniform() * static_cast<double>(n)); }
  int64_t between(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  template <size_t N>
  size_t weighted(const std::array<int, N>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int64_t x = below(total);
    for (size_t i = 0; i < N; ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return N - 1;
  }

 private:
  std::mt19937_64 gen_;
};

// A moment: a day and the second within it.
struct Moment {
  Days day = 0;
  int32_t sec = 0;
  bool operator<(const Moment& o) const { return day != o.day ? day < o.day : sec < o.sec; }
};

// "YYYY-MM-DDTHH:MM:SS" in the shop's local time (no offset).
std::string timestamp(Moment m) {
  std::string s = format_date(m.day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d", m.sec / 3600, m.sec / 60 % 60, m.sec % 60);
  return s + buf;
}

// Online shops sell around the clock with an evening peak.
int32_t time_of_day(Rng& rng) {
  static constexpr std::array<int, 24> kHourWeights = {3, 2, 1, 1, 1, 1, 2, 4, 5, 6, 6, 6,
                                                        7, 6, 5, 5, 5, 6, 7, 8, 10, 11, 9, 6};
  int hour = static_cast<int>(rng.weighted(kHourWeights));
  return static_cast<int32_t>(hour * 3600 + rng.below(3600));
}

Days add_months(Days day, int months) {
  Ymd c = civil_from_days(day);
  int m0 = static_cast<int>(c.m) - 1 + months;
  int y = c.y + m0 / 12;
  unsigned m = static_cast<unsigned>(m0 % 12) + 1;
  return days_from_civil(y, m, std::min(c.d, days_in_month(y, m)));
}

struct Item {
  int product = 0;  // index into kProducts
  int quantity = 1;
};

struct Order {
  Moment at;
  std::vector<Item> items;
  const char* status = "paid";
  int64_t total = 0;
};

// ---------------------------------------------------------------- the generator
class Generator {
 public:
  Generator(SQLite::Database& db, const ShopOptions& opt) : w_(db), opt_(opt), rng_(opt.seed) {
    intense_ = opt.orders_per_customer > 0;
    if (intense_) intense_gap_ = intense_gap(opt.orders_per_customer);
  }

  ShopCounts generate() {
    for (size_t p = 0; p < kProducts.size(); ++p) {
      const Product& pr = kProducts[p];
      engine::ProductRow row;
      row.id = static_cast<int64_t>(p + 1);
      row.sku = pr.sku;
      row.name = std::string(pr.name);
      row.category = std::string(pr.category);
      row.price = static_cast<int64_t>(pr.price);
      w_.write(row);
      ++counts_.products;
    }
    for (int64_t i = 0; i < opt_.customers; ++i) customer(i + 1, i);
    return counts_;
  }

 private:
  Days opened() const { return opt_.as_of - kHistoryDays; }

  // The mean exponential wait between a loyal buyer's orders for `target` orders per customer:
  // a customer who signed up at fraction f of the shop's history has T = history * (1 - f^(1/g))
  // days left, room for N = 1 + T / gap orders, and a chain continuing with chance p places
  // (1 - p^N) / (1 - p) of them on average. Bisection on that expectation over f.
  static double intense_gap(double target) {
    constexpr int kSteps = 2000;
    auto expected = [](double gap) {
      double sum = 0;
      for (int i = 0; i < kSteps; ++i) {
        double f = (i + 0.5) / kSteps;
        double days_left = kHistoryDays * (1 - std::pow(f, 1.0 / kSignupGrowth));
        double n = 1 + days_left / (kIntenseMinGap - 0.5 + gap);
        sum += (1 - std::pow(kIntenseRepeat, n)) / (1 - kIntenseRepeat);
      }
      return kOtherOrdersPerCustomer + kBuyersPerCustomer * sum / kSteps;
    };
    double lo = 0.01, hi = 10'000;
    for (int i = 0; i < 60; ++i) {
      double mid = std::sqrt(lo * hi);
      (expected(mid) > target ? lo : hi) = mid;
    }
    return lo;
  }

  void customer(int64_t id, int64_t index) {
    tags_set_.clear();
    // Sign-up: ids follow sign-up order, denser towards as_of.
    double f = (static_cast<double>(index) + rng_.uniform()) / static_cast<double>(opt_.customers);
    Days signup_day = opened() + static_cast<Days>(std::pow(f, 1.0 / kSignupGrowth) * kHistoryDays);
    signup_day = std::min(signup_day, opt_.as_of);
    Moment signup{signup_day, time_of_day(rng_)};

    size_t family = static_cast<size_t>(rng_.below(static_cast<int64_t>(kFamilyNames.size())));
    size_t given = static_cast<size_t>(rng_.below(static_cast<int64_t>(kGivenNames.size())));
    std::string name = std::string(kFamilyNames[family].kanji) + " " + kGivenNames[given].kanji;
    std::string email = std::string(kGivenNames[given].romaji) + "." + kFamilyNames[family].romaji + "." +
                        std::to_string(id) + "@example.jp";

    std::optional<Days> birthday = draw_birthday(id);
    bool opt_in[5] = {rng_.chance(0.70), rng_.chance(0.40), rng_.chance(0.20), rng_.chance(0.30),
                      rng_.chance(0.25)};

    int64_t referrer = 0;
    if (rng_.chance(kReferredRate) && !referrers_.empty()) {
      for (int attempt = 0; attempt < 3 && referrer == 0; ++attempt) {
        const auto& cand = referrers_[static_cast<size_t>(rng_.below(static_cast<int64_t>(referrers_.size())))];
        if (cand.second <= signup_day) referrer = cand.first;
      }
    }

    engine::CustomerRow row;
    row.set(engine::CustomerCol::id, id).set(engine::CustomerCol::name, name).set(engine::CustomerCol::email, email);
    if (birthday) row.set(engine::CustomerCol::birthday, format_date(*birthday));
    row.set(engine::CustomerCol::created_at, timestamp(signup));
    const engine::CustomerCol opt_in_cols[5] = {engine::CustomerCol::email_opt_in, engine::CustomerCol::line_opt_in,
                                                engine::CustomerCol::sms_opt_in, engine::CustomerCol::push_opt_in,
                                                engine::CustomerCol::dm_opt_in};
    for (int c = 0; c < 5; ++c) row.set(opt_in_cols[c], int64_t{opt_in[c] ? 1 : 0});
    if (referrer) row.set(engine::CustomerCol::referred_by, referrer);
    w_.write(row);
    ++counts_.customers;
    if (referrer) {
      w_.write(engine::ReferralRow{referrer, id, timestamp(signup)});
      ++counts_.referrals;
    }

    if (rng_.chance(0.04)) cart_abandoned(id, signup);
    if (rng_.chance(0.004)) add_tag(id, "wholesale", signup.day + static_cast<Days>(rng_.between(0, 60)));

    // The first order, on the sign-up day or some days later.
    if (!rng_.chance(referrer ? kReferredBuyerRate : kBuyerRate)) return;
    Moment first{signup.day, signup.sec};
    if (rng_.chance(0.3)) first = {signup.day + 1 + static_cast<Days>(rng_.exponential(12)), time_of_day(rng_)};
    if (first.day > opt_.as_of) return;

    std::vector<Order> orders;
    bool subscriber = rng_.chance(kSubscriberRate);
    // One-off orders: a chain whose next link grows likelier with every purchase.
    Moment at = first;
    bool sub_starts_first = subscriber && rng_.chance(0.5);
    const int max_orders = intense_ ? kMaxOrdersPerIntenseChain : kMaxOrdersPerChain;
    for (int k = 1; k <= max_orders; ++k) {
      if (!(k == 1 && sub_starts_first)) orders.push_back(one_off(at, k == 1));
      double p = intense_ ? kIntenseRepeat : kRepeatRate[static_cast<size_t>(std::min(k, 4) - 1)];
      if (!rng_.chance(p)) break;
      if (intense_)
        at = {at.day + static_cast<Days>(kIntenseMinGap + rng_.exponential(intense_gap_)), time_of_day(rng_)};
      else
        at = {at.day + 14 + static_cast<Days>(rng_.exponential(50)), time_of_day(rng_)};
      if (at.day > opt_.as_of) break;
    }
    if (subscriber) {
      Moment start = first;
      if (!sub_starts_first) start = {first.day + static_cast<Days>(rng_.between(7, 60)), time_of_day(rng_)};
      if (start.day <= opt_.as_of) subscription(id, start, orders);
    }
    if (orders.empty()) return;

    std::sort(orders.begin(), orders.end(), [](const Order& a, const Order& b) { return a.at < b.at; });
    int64_t paid_total = 0;
    int paid_count = 0;
    bool vip = false;
    for (Order& o : orders) {
      if (rng_.chance(kCancelledRate)) o.status = "cancelled";
      else if (rng_.chance(kRefundedRate / (1 - kCancelledRate))) o.status = "refunded";
      write_order(id, o);
      if (o.status[0] == 'p') {
        paid_total += o.total;
        ++paid_count;
        if (!vip && (paid_total >= kVipSpent || paid_count >= kVipOrders)) {
          vip = true;
          add_tag(id, "vip", o.at.day);
        }
      } else if (o.status[0] == 'r' && rng_.chance(0.3)) {
        add_tag(id, "complained", o.at.day + static_cast<Days>(rng_.between(1, 10)));
      }
    }

    // Surveys: a third of buyers answer a week or more after the first order; repeaters again.
    Moment first_paid{};
    for (const Order& o : orders)
      if (o.status[0] == 'p') { first_paid = o.at; break; }
    if (paid_count > 0 && rng_.chance(kSurveyRate)) {
      int sat = survey(id, {first_paid.day + static_cast<Days>(rng_.between(7, 30)), time_of_day(rng_)});
      if (paid_count >= 3 && rng_.chance(0.3))
        survey(id, {orders.back().at.day + static_cast<Days>(rng_.between(7, 30)), time_of_day(rng_)});
      (void)sat;
    }
  }

  std::optional<Days> draw_birthday(int64_t id) {
    if (rng_.chance(kNullBirthdayRate)) return std::nullopt;
    int as_of_year = civil_from_days(opt_.as_of).y;
    static constexpr std::array<int, 5> kAgeBands = {22, 30, 24, 15, 9};  // 18-29, 30s, 40s, 50s, 60s
    static constexpr std::array<int, 5> kBandStart = {18, 30, 40, 50, 60};
    size_t band = rng_.weighted(kAgeBands);
    int age = kBandStart[band] + static_cast<int>(rng_.below(band == 0 ? 12 : 10));
    int year = as_of_year - age - 1;
    Days day = days_from_civil(year, 1, 1) + static_cast<Days>(rng_.below(is_leap(year) ? 366 : 365));
    // A few leap-day birthdays on purpose (about 1 in 500), for days_until_birthday's edge case.
    if (id % 500 == 29) {
      while (!is_leap(year)) --year;
      day = days_from_civil(year, 2, 29);
    }
    return day;
  }

  Order one_off(Moment at, bool first) {
    Order o;
    o.at = at;
    if (first) {
      // Most first orders are a trial set; the rest a full-size item.
      if (rng_.chance(0.55)) o.items.push_back({pick(Category::Trial), 1});
      else o.items.push_back({pick(Category::FullSize), 1});
    } else {
      static constexpr std::array<int, 4> kRepeatMix = {40, 33, 22, 5};
      static constexpr std::array<Category, 4> kRepeatCategory = {Category::Refill, Category::FullSize,
                                                                  Category::Supplement, Category::Bundle};
      o.items.push_back({pick(kRepeatCategory[rng_.weighted(kRepeatMix)]), rng_.chance(0.1) ? 2 : 1});
    }
    if (rng_.chance(0.22)) o.items.push_back({pick(rng_.chance(0.5) ? Category::Supplement : Category::Gift), 1});
    return o;
  }

  int pick(Category c) {
    const auto& idx = by_category(c);
    return idx[static_cast<size_t>(rng_.below(static_cast<int64_t>(idx.size())))];
  }

  // Monthly deliveries from `start`; each is an order. Churn is highest after the first box.
  void subscription(int64_t id, Moment start, std::vector<Order>& orders) {
    int product = pick(Category::Subscription);
    int cycles = 0;
    const char* status = "active";
    std::optional<Moment> cancelled_at;
    const char* reason = nullptr;
    for (int k = 0;; ++k) {
      Days delivery = add_months(start.day, k);
      if (delivery > opt_.as_of) break;
      Order o;
      o.at = {delivery, k == 0 ? start.sec : time_of_day(rng_)};
      o.items.push_back({product, 1});
      orders.push_back(std::move(o));
      ++cycles;
      double p = kContinueRate[static_cast<size_t>(std::min(cycles, 3) - 1)];
      if (rng_.chance(p)) continue;
      Moment stop{delivery + static_cast<Days>(rng_.between(3, 25)), time_of_day(rng_)};
      bool pause = rng_.chance(0.25);
      const char* why = pause ? kPauseReasons[rng_.weighted(kPauseWeights)]
                              : kCancelReasons[rng_.weighted(kCancelWeights)];
      if (stop.day > opt_.as_of) {
        // Still active: half of those about to leave have asked already (prevention's chance).
        if (rng_.chance(0.5)) {
          Moment asked{std::max(delivery + 1, opt_.as_of - static_cast<Days>(rng_.below(4))), time_of_day(rng_)};
          if (asked.day <= opt_.as_of) event(id, "cancel_request", asked, reason_payload(why));
        }
        break;
      }
      if (pause) {
        status = "paused";
        reason = why;
        event(id, "subscription_paused", stop, reason_payload(why));
      } else {
        status = "cancelled";
        reason = why;
        cancelled_at = stop;
        event(id, "cancel_request", {stop.day, std::max(0, stop.sec - 600)}, reason_payload(why));
      }
      break;
    }
    engine::SubscriptionRow sub;
    sub.id = ++counts_.subscriptions;
    sub.customer_id = id;
    sub.product_id = static_cast<int64_t>(product + 1);
    sub.started_at = timestamp(start);
    sub.status = status;
    sub.cycles = cycles;
    if (cancelled_at) sub.cancelled_at = timestamp(*cancelled_at);
    if (reason) sub.cancel_reason = std::string(reason);
    w_.write(sub);
  }

  static std::string reason_payload(const char* why) { return std::string("{\"reason\": \"") + why + "\"}"; }

  void cart_abandoned(int64_t id, Moment signup) {
    Moment at{signup.day + static_cast<Days>(rng_.below(std::max<int64_t>(1, opt_.as_of - signup.day + 1))),
              time_of_day(rng_)};
    int product = pick(rng_.chance(0.5) ? Category::FullSize : Category::Bundle);
    event(id, "cart_abandoned", at, std::string("{\"sku\": \"") + kProducts[static_cast<size_t>(product)].sku + "\"}");
  }

  void event(int64_t id, const char* type, Moment at, const std::string& payload) {
    if (at.day > opt_.as_of) return;
    w_.write(engine::EventRow{++counts_.events, id, type, timestamp(at), payload});
  }

  void add_tag(int64_t id, const char* tag, Days day) {
    if (day > opt_.as_of) return;
    for (const char* t : tags_set_) if (std::string_view(t) == tag) return;  // one row per (customer, tag)
    tags_set_.push_back(tag);
    w_.write(engine::TagRow{id, tag, timestamp({day, 9 * 3600})});
    ++counts_.tags;
  }

  // Satisfaction skews high, as it does for shops people chose to keep buying from.
  int survey(int64_t id, Moment at) {
    if (at.day > opt_.as_of) return 0;
    static constexpr std::array<int, 5> kSatisfaction = {5, 7, 16, 34, 38};  // 1..5
    int sat = static_cast<int>(rng_.weighted(kSatisfaction)) + 1;
    w_.write(engine::SurveyRow{id, timestamp(at), sat});
    ++counts_.surveys;
    if (sat >= 4) referrers_.emplace_back(id, at.day);
    if (sat <= 2 && rng_.chance(0.6)) add_tag(id, "complained", at.day);
    return sat;
  }

  void write_order(int64_t customer, Order& o) {
    int64_t order_id = ++counts_.orders;
    o.total = 0;
    for (const Item& it : o.items) {
      int64_t price = kProducts[static_cast<size_t>(it.product)].price;
      o.total += price * it.quantity;
      w_.write(engine::OrderItemRow{order_id, static_cast<int64_t>(it.product + 1), it.quantity, price});
      ++counts_.order_items;
    }
    w_.write(engine::OrderRow{order_id, customer, timestamp(o.at), o.total, o.status});
  }

  engine::FactWriter w_;
  const ShopOptions& opt_;
  bool intense_ = false;      // orders_per_customer was given
  double intense_gap_ = 50;   // the mean exponential part of a loyal buyer's wait, in days
  Rng rng_;
  ShopCounts counts_;
  std::vector<std::pair<int64_t, Days>> referrers_;
  std::vector<const char*> tags_set_;  // the current customer's tags  // satisfied buyers and the day they qualified
};

}  // namespace

ShopCounts generate_shop(const std::string& db_path, const ShopOptions& options) {
  if (options.customers < 0) throw std::runtime_error("the number of customers must not be negative");
  if (!(options.orders_per_customer >= 0 && options.orders_per_customer <= kMaxOrdersPerCustomer))
    throw std::runtime_error("orders per customer must be from 0 to " + std::to_string(kMaxOrdersPerCustomer));
  SQLite::Database db = open_empty_store(db_path, "use a new file");
  // Timestamps are written in the shop's local time, without an offset.
  db.exec("INSERT INTO meta (key, value) VALUES ('timezone', '" + std::string(kShopTimeZone) +
          "') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  // A fresh file is filled in one go: an interrupted generation leaves nothing half-written.
  db.exec("PRAGMA synchronous = OFF");
  db.exec("PRAGMA cache_size = -65536");
  SQLite::Transaction tx(db);
  ShopCounts counts = Generator(db, options).generate();
  tx.commit();
  return counts;
}

}  // namespace crm::examples
