// Gamma-Gamma likelihood in log space (lgamma), analytic gradient, conditional expected value.
#include "engine/model/gamma_gamma.hpp"

#include <gsl/gsl_sf_psi.h>

#include <cmath>
#include <limits>

#include "engine/model/row_chunks.hpp"

namespace crm::model {

double gamma_gamma_log_likelihood(const GammaGammaParams& g, const SpendData& d, double* grad) {
  const double p = g.p, q = g.q, ga = g.gamma;
  const double lgq = std::lgamma(q), psq = grad ? gsl_sf_psi(q) : 0, lga = std::log(ga);
  // The gamma-function terms depend on x only: recomputed when x changes within a chunk (rows
  // come sorted by x from spend_data, but any order is correct). Chunks on all cores.
  const LikelihoodSum<3> total = sum_row_chunks<LikelihoodSum<3>>(d.size(), [&](size_t begin, size_t end, LikelihoodSum<3>& out) {
    double cur_x = -1, lg_x = 0, ps_pxq = 0, ps_px = 0, log_x = 0;
    for (size_t i = begin; i < end; ++i) {
      const double x = d.x[i], m = d.mean[i], w = d.w[i];
      const double px = p * x;
      if (x != cur_x) {
        cur_x = x;
        log_x = std::log(x);
        lg_x = std::lgamma(px + q) - std::lgamma(px) - lgq + q * lga + px * log_x;
        if (grad) ps_pxq = gsl_sf_psi(px + q), ps_px = gsl_sf_psi(px);
      }
      const double lden = std::log(ga + m * x), lm = d.log_mean.empty() ? std::log(m) : d.log_mean[i];
      // f(m | p, q, gamma, x) = G(px+q)/(G(px) G(q)) gamma^q m^(px-1) x^px / (gamma + m x)^(px+q)
      out.ll += w * (lg_x + (px - 1) * lm - (px + q) * lden);
      if (grad) {
        out.g[0] += w * x * (ps_pxq - ps_px + lm + log_x - lden);
        out.g[1] += w * (ps_pxq - psq + lga - lden);
        out.g[2] += w * (q / ga - (px + q) / (ga + m * x));
      }
    }
  });
  const double ll = total.ll, gp = total.g[0], gq = total.g[1], gg = total.g[2];
  if (grad) {
    grad[0] = gp * p;
    grad[1] = gq * q;
    grad[2] = gg * ga;
  }
  return ll;
}

}  // namespace crm::model
