// The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases
// at Poisson rate lambda ~ Gamma(r, alpha) while alive; after each purchase the customer drops
// out with probability p ~ Beta(a, b). Likelihood, gradient and the per-customer predictions.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

// BgNbdParams and the predictions (p_alive, expected purchases) are in engine/lifetime/lifetime_math.hpp.

// The log-likelihood of the data (weighted sum over rows). When `grad` is given it receives
// d LL / d log(theta) for theta = (r, alpha, a, b).
double bgnbd_log_likelihood(const BgNbdParams& p, const RfmData& d, double* grad = nullptr);

}  // namespace crm::model
