// The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), as in Fader & Hardie's notes:
// Poisson purchases at lambda ~ Gamma(r, alpha) during an exponential lifetime of rate
// mu ~ Gamma(s, beta). Its log-likelihood with the analytic gradient, over rows indexed once.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/rfm_summary.hpp"

namespace crm::model {

// ParetoNbdParams and the predictions are in engine/lifetime/lifetime_math.hpp.

// The likelihood's inputs indexed once per fit. Its costly part, a 2F1 series, depends on a
// row's (x, t) only for t = t_x and t = T: each distinct pair is summed once per evaluation
// (~60k pairs for ~550k rows at 1M customers); log(alpha + T) and log(beta + T) once per T.
struct ParetoRows {
  const RfmData* data = nullptr;
  std::vector<double> pair_x, pair_t;   // the distinct (x, t) pairs
  std::vector<uint32_t> f1_at, f2_at;   // per row: its (x, t_x) pair and its (x, T) pair
  std::vector<double> times;            // the distinct T values
  std::vector<uint32_t> T_at;           // per row: its T among them
  size_t max_x = 0;
};
ParetoRows index_pareto_rows(const RfmData& d);  // `d` must outlive the result

// The log-likelihood (weighted sum over rows); with `grad`, its gradient by the logs of
// (r, alpha, s, beta). Summed in fixed chunks on all cores (row_chunks.hpp).
double pareto_log_likelihood(const ParetoNbdParams& p, const ParetoRows& rows, double* grad = nullptr);
double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d);

}  // namespace crm::model
