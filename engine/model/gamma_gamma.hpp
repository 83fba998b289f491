// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
// Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): transaction values of a
// customer ~ Gamma(p, nu), nu ~ Gamma(q, gamma) across customers; fitted on repeat buyers.
#pragma once
#include "engine/model/rfm_summary.hpp"

namespace crm::model {

struct GammaGammaParams {
  double p = 1, q = 1, gamma = 1;
};

// Log-likelihood of the mean spends (the density of the mean of x transactions); `grad`
// receives d LL / d log(theta) for theta = (p, q, gamma).
double gamma_gamma_log_likelihood(const GammaGammaParams& g, const SpendData& d, double* grad = nullptr);

// E[value of a transaction | x transactions with mean m]; the population mean p*gamma/(q-1)
// when x = 0. NaN when q <= 1 (the population mean does not exist).
double gamma_gamma_expected_value(const GammaGammaParams& g, double x, double mean);

}  // namespace crm::model
