// The lifetime-model attributes of a frame (docs/lifetime.md): p_alive, expected_order_value,
// expected_purchases(DAYS), predicted_clv(MONTHS[, RATE]) from the fitted models of Facts::models,
// and recommended(N) from the next-purchase table of the paid orders before the day.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "engine/frame/frame.hpp"
#include "engine/store/facts.hpp"
#include "lang/ast.hpp"

namespace crm::engine {

// The frame column of a call to expected_purchases / predicted_clv / recommended with literal
// arguments: "expected_purchases(30)", "predicted_clv(12,0.1)", "recommended(3)" (the checker
// allows literals only). "" for any other expression.
std::string model_column_name(const lang::Expr& call);

// Whether `name` is one of the columns above, p_alive or expected_order_value; the subject
// placeholder "recommended" is recommended(3).
bool is_model_column(const std::string& name);

// The per-customer inputs of the models as of `d`: paid purchase days (orders of one day are
// one purchase) on or before d. x = days - 1; t_x = last - first; T = d - first (days);
// mean = mean value of the repeat purchase days. first == kNoDay without a paid order.
struct RfmRow {
  Days first = kNoDay, last = kNoDay;
  int x = 0;
  double mean = 0;
};
RfmRow rfm_of(const Facts& f, size_t row, Days d);

// What fill_model_columns keeps from one day to the next (a FrameCursor's, in its FramePlan):
// every row's RfmRow as of `day` (kNoDay: none kept), and scratch columns of one value per row.
struct ModelCache {
  std::vector<RfmRow> rfm;
  Days day = kNoDay;
  std::vector<double> p_alive, expected, prev, sum;
};
// The rows whose paid orders may have changed in the days (since, d] of a fill: every row with
// an order dated in them (any order, repeats allowed).
struct RfmChanges {
  Days since = kNoDay;
  const std::vector<uint32_t>* rows = nullptr;
};

// Fills the model columns of `frame` named in `needed` (p_alive and expected_order_value too
// when `all`) as of day `d`. New columns are inserted; every column filled is appended to
// `produced` when given. Returns whether a column was inserted. With a `cache` whose RfmRows are
// as of `changes->since`, only the rows of `changes` are summed again; the values are the same.
bool fill_model_columns(const Facts& f, Days d, const std::set<std::string>& needed, bool all, Frame& frame,
                        std::vector<const Column*>* produced, ModelCache* cache = nullptr,
                        const RfmChanges* changes = nullptr);

// recommended(n) for every row as of `d`: the next-purchase table of the paid orders dated
// before d (engine/model/next_purchase.hpp's rules: buckets of days elapsed, confidence, lift;
// ranking as recommend_next with no exclusion), applied to each customer's last purchase day on
// or before d. SKU string ids, best first.
std::vector<std::vector<int64_t>> recommend_all(const Facts& f, Days d, size_t n);

}  // namespace crm::engine
