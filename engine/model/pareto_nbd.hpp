// The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), as in Fader & Hardie's notes:
// Poisson purchases at lambda ~ Gamma(r, alpha) during an exponential lifetime of rate
// mu ~ Gamma(s, beta). Likelihood (with 2F1), P(alive) and expected purchases.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

struct ParetoNbdParams {
  double r = 1, alpha = 1, s = 1, beta = 1;
};

// The log-likelihood of the data (weighted sum over rows); no analytic gradient.
double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d);

double pareto_p_alive(const ParetoNbdParams& p, double x, double t_x, double T);
double pareto_expected_purchases(const ParetoNbdParams& p, double t, double x, double t_x, double T);
double pareto_expected_repeat(const ParetoNbdParams& p, double t);

}  // namespace crm::model
