// The purchase model's predictions of one day for every customer (p_alive, expected purchases in
// the next t days), for the model columns of a frame (model_attributes.cpp), with what does not
// depend on the customer computed once a day instead of once a customer.
#pragma once
#include <vector>

#include "engine/frame/model_attributes.hpp"
#include "engine/lifetime/lifetime_models.hpp"

namespace crm::engine {

// With a BG/NBD model, P(alive) takes its logarithms from tables (log(a/(b+x-1)) per x,
// log(alpha+k) per whole day k: T and t_x are whole days), so a customer costs one exp, and the
// t_x-free factor of expected purchases (model::bgnbd_expected_factor, a 2F1) is computed once
// per (x, T) pair present, of which there are far fewer than customers. The results are the very
// values of LifetimeModels::p_alive and expected_purchases (the same operations on the same
// numbers); with only a Pareto/NBD model, those functions are called per customer.
class DayPredictions {
 public:
  // `rfm`: every row's RfmRow as of `d` (rows without a purchase are skipped: their values are
  // left unspecified).
  DayPredictions(const model::LifetimeModels& m, Days d, const std::vector<RfmRow>& rfm);

  // P(alive) per row into `out` (resized to the rows).
  void p_alive(std::vector<double>& out) const;
  // Expected purchase days in the next `t_days` per row into `out`, given `p_alive` from above.
  void expected(double t_days, const std::vector<double>& p_alive, std::vector<double>& out);

 private:
  const model::LifetimeModels& m_;
  const Days d_;
  const std::vector<RfmRow>& rfm_;
  double unit_ = 1;
  std::vector<double> log_day_, log_ab_;  // BG/NBD: log(alpha + k/unit), log(a/(b+x-1))
  // BG/NBD: the (x, T) pairs present with x <= memo_x_, as x * width_ + T (width_ = max T + 1),
  // and the factor of the last expected() by that index (only the pairs' entries are written).
  // Found at the first expected().
  void find_pairs();
  std::vector<uint32_t> pairs_;
  std::vector<double> factor_;
  bool pairs_found_ = false;
  int memo_x_ = -1, max_x_ = 0;
  size_t width_ = 0;
};

}  // namespace crm::engine
