// Outcomes of campaigns (`crm outcomes`, and the section of `crm simulate --report`): per campaign
// and rule, customers who got an action vs customers the holdout hash put aside, what they bought
// in a window after the action's day, and the uplift with a 95 % interval (docs/outcomes.md).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/run/action.hpp"
#include "engine/store/facts.hpp"
#include "lang/checker.hpp"

namespace crm::engine {

// Days after the action's day in which a paid order counts as a conversion.
constexpr int kDefaultOutcomeWindow = 30;
// Customers an arm needs before an interval is worth printing: with fewer, a 95 % interval of a
// conversion rate is wider than most campaigns' effects (±18 points at 30 %), so we say
// "not enough customers to tell" instead.
constexpr int64_t kDefaultMinCustomers = 30;

// What one arm's customers did in their windows.
struct OutcomeArm {
  int64_t customers = 0;
  int64_t converted = 0;  // with at least one paid order in the window
  int64_t orders = 0;     // paid orders in the window
  double revenue = 0;     // their totals
  double revenue_sq = 0;  // sum over customers of (revenue per customer)^2, for the variance
  int64_t first_buyers = 0;  // customers with exactly one paid order on or before the action's day
  int64_t f2 = 0;            // of those, with a second paid order in the window
  int64_t coupon_customers = 0;  // customers granted a coupon by this group (treated arm only)
  int64_t coupon_redeemed = 0;   // of those, with an order carrying that coupon code in the window
  int64_t from_outbox = 0;   // customers whose first action is a row of the real outbox

  double conversion() const { return customers ? static_cast<double>(converted) / static_cast<double>(customers) : 0; }
  double revenue_per_customer() const { return customers ? revenue / static_cast<double>(customers) : 0; }
  double f2_rate() const { return first_buyers ? static_cast<double>(f2) / static_cast<double>(first_buyers) : 0; }
};

// A difference treated - held out with its 95 % interval.
struct Uplift {
  double diff = 0, low = 0, high = 0;
  bool significant() const { return low > 0 || high < 0; }
};

struct OutcomeRow {
  std::string name;       // the campaign's or the rule's qualified name
  bool campaign = false;  // a campaign (every rule inside it) rather than one rule
  double holdout_pct = 0; // from the script (0: no holdout, so no one is held out)
  OutcomeArm treated, held_out;
  int64_t cut_windows = 0;  // customers whose window runs past the last order in the store
  // nullopt: "not enough customers to tell" (an arm below the minimum).
  std::optional<Uplift> conversion, revenue_per_customer, f2;
};

struct OutcomesResult {
  Days from = 0, to = 0;
  int window = kDefaultOutcomeWindow;
  int64_t min_customers = kDefaultMinCustomers;
  Days data_end = kNoDay;  // the last day with an order in the store
  bool has_coupons = false;  // the orders carry coupon codes (orders.coupon)
  std::vector<OutcomeRow> rows;  // campaigns in declaration order, each followed by its rules
};

// Collects each customer's first exposure per campaign and rule, then measures them. Not
// thread-safe; `program` and `facts` must outlive it.
//  - add(): an action of a dry run. Intent to treat: status held_out puts the customer in the
//    held-out arm; any other status (sent, or blocked by consent or a cap) in the treated arm.
//  - add_outbox(): a row of the real outbox (really sent): the treated arm.
// A customer's arm is that of their first exposure in [from, to] (ties: the outbox wins).
class OutcomesAccumulator {
 public:
  OutcomesAccumulator(const lang::CheckedProgram& program, const Facts& facts, Days from, Days to);
  void add(const ActionOut& a);
  void add_outbox(const Facts::OutboxEntry& e);
  // `coupons`: order id -> coupon code (orders.coupon), null or empty when the store has none.
  OutcomesResult finish(int window, int64_t min_customers,
                        const std::unordered_map<int64_t, std::string>* coupons = nullptr) const;

 private:
  struct Exposure {
    Days day = 0;
    bool held_out = false;
    bool outbox = false;
    std::vector<std::string> coupons;  // coupon names granted on that first day
  };
  struct Group {
    std::string name;
    bool campaign = false;
    double holdout_pct = 0;
    std::unordered_map<uint32_t, Exposure> customers;  // customer row -> first exposure
  };
  // The groups of rule `name`: its own, then its campaigns'; created on first use.
  std::vector<size_t> groups_of(const std::string& rule_name);
  void expose(size_t row, Days day, bool held_out, bool outbox, const std::string& coupon, const std::string& rule_name);

  const lang::CheckedProgram& program_;
  const Facts& facts_;
  Days from_, to_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> group_index_;   // "c:name" / "r:name" -> groups_
  std::unordered_map<std::string, std::vector<size_t>> rule_groups_;
  std::vector<std::string> order_;  // group keys in report order, filled in the constructor
};

// Two-proportion difference p1 - p2; its interval is Agresti–Caffo's (the unpooled Wald interval
// of the shares with one success and one failure added to each arm).
Uplift proportion_uplift(int64_t x1, int64_t n1, int64_t x2, int64_t n2);
// Welch's difference of means from sums and sums of squares, with the t quantile at the
// Welch–Satterthwaite degrees of freedom.
Uplift welch_uplift(double sum1, double sumsq1, int64_t n1, double sum2, double sumsq2, int64_t n2);
// The 0.975 quantile of Student's t with `df` degrees of freedom (Cornish–Fisher expansion;
// within 0.01 of the exact value for df >= 3; df < 1 is taken as 1).
double t975(double df);

// Outputs (outcomes_format.cpp).
std::string outcomes_text(const OutcomesResult& r);
std::string outcomes_jsonl(const OutcomesResult& r);
std::string outcomes_csv(const OutcomesResult& r);
// The HTML section (heading, notes, a table and a chart per campaign) for a report.
std::string outcomes_html_section(const OutcomesResult& r);
// A whole self-contained HTML document around the section (crm outcomes --report).
std::string outcomes_html_document(const OutcomesResult& r, const std::string& script, const std::string& store);

}  // namespace crm::engine
