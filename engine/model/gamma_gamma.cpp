// Gamma-Gamma likelihood in log space (lgamma), analytic gradient, conditional expected value.
#include "engine/model/gamma_gamma.hpp"

#include <gsl/gsl_sf_psi.h>

#include <cmath>
#include <limits>

namespace crm::model {

double gamma_gamma_log_likelihood(const GammaGammaParams& g, const SpendData& d, double* grad) {
  const double p = g.p, q = g.q, ga = g.gamma;
  double ll = 0, gp = 0, gq = 0, gg = 0;
  const double lgq = std::lgamma(q), psq = grad ? gsl_sf_psi(q) : 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const double x = d.x[i], m = d.mean[i], w = d.w[i];
    const double px = p * x, lden = std::log(ga + m * x);
    // f(m | p, q, gamma, x) = G(px+q)/(G(px) G(q)) gamma^q m^(px-1) x^px / (gamma + m x)^(px+q)
    ll += w * (std::lgamma(px + q) - std::lgamma(px) - lgq + q * std::log(ga) + (px - 1) * std::log(m) +
               px * std::log(x) - (px + q) * lden);
    if (grad) {
      const double ps = gsl_sf_psi(px + q);
      gp += w * x * (ps - gsl_sf_psi(px) + std::log(m) + std::log(x) - lden);
      gq += w * (ps - psq + std::log(ga) - lden);
      gg += w * (q / ga - (px + q) / (ga + m * x));
    }
  }
  if (grad) {
    grad[0] = gp * p;
    grad[1] = gq * q;
    grad[2] = gg * ga;
  }
  return ll;
}

double gamma_gamma_expected_value(const GammaGammaParams& g, double x, double mean) {
  if (x <= 0) return g.q > 1 ? g.p * g.gamma / (g.q - 1) : std::numeric_limits<double>::quiet_NaN();
  double den = g.p * x + g.q - 1;
  return den > 0 ? g.p * (g.gamma + x * mean) / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace crm::model
