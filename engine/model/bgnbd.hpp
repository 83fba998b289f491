// The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): purchases
// at Poisson rate lambda ~ Gamma(r, alpha) while alive; after each purchase the customer drops
// out with probability p ~ Beta(a, b). Likelihood, gradient and the per-customer predictions.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

struct BgNbdParams {
  double r = 1, alpha = 1, a = 1, b = 1;
};

// The log-likelihood of the data (weighted sum over rows). When `grad` is given it receives
// d LL / d log(theta) for theta = (r, alpha, a, b).
double bgnbd_log_likelihood(const BgNbdParams& p, const RfmData& d, double* grad = nullptr);

// P(alive | x, t_x, T): 1 for a customer without repeat purchases (the model's convention).
double bgnbd_p_alive(const BgNbdParams& p, double x, double t_x, double T);

// E[purchases in the next t | x, t_x, T] (the paper's equation 10).
double bgnbd_expected_purchases(const BgNbdParams& p, double t, double x, double t_x, double T);

// E[X(t)]: expected repeat purchases in the first t after a customer's first purchase.
double bgnbd_expected_repeat(const BgNbdParams& p, double t);

}  // namespace crm::model
