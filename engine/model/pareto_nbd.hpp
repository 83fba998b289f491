// The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), as in Fader & Hardie's notes:
// Poisson purchases at lambda ~ Gamma(r, alpha) during an exponential lifetime of rate
// mu ~ Gamma(s, beta). Likelihood (with 2F1), P(alive) and expected purchases.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

// ParetoNbdParams and the predictions are in engine/lifetime/lifetime_math.hpp.

// The log-likelihood of the data (weighted sum over rows); no analytic gradient.
double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d);

}  // namespace crm::model
