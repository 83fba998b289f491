// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
// Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): transaction values of a
// customer ~ Gamma(p, nu), nu ~ Gamma(q, gamma) across customers; fitted on repeat buyers.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

// GammaGammaParams and the expected value are in engine/lifetime/lifetime_math.hpp.

// Log-likelihood of the mean spends (the density of the mean of x transactions); `grad`
// receives d LL / d log(theta) for theta = (p, q, gamma).
double gamma_gamma_log_likelihood(const GammaGammaParams& g, const SpendData& d, double* grad = nullptr);

}  // namespace crm::model
