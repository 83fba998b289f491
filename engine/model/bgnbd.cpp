// BG/NBD likelihood in log space (lgamma, log-sum-exp), its analytic gradient, and predictions.
#include "engine/model/bgnbd.hpp"

#include <gsl/gsl_sf_psi.h>

#include <cmath>
#include <vector>

#include "engine/lifetime/special.hpp"

namespace crm::model {
namespace {

// Terms of one customer row that depend on x only, computed once per distinct x.
struct XTerms {
  double lg, dr, da, db;  // lgamma part, and its derivatives by r, a, b
  double lab;             // log(a/(b+x-1)) (x > 0)
};

}  // namespace

double bgnbd_log_likelihood(const BgNbdParams& p, const RfmData& d, double* grad) {
  const double r = p.r, al = p.alpha, a = p.a, b = p.b;
  const double base = -std::lgamma(r) + r * std::log(al) + std::lgamma(a + b) - std::lgamma(b);
  const double base_dr = -gsl_sf_psi(r) + std::log(al);
  const double base_da = gsl_sf_psi(a + b), base_db = gsl_sf_psi(a + b) - gsl_sf_psi(b);
  // Frequencies are whole numbers: the x-only terms in a vector indexed by x, filled on first use.
  std::vector<XTerms> cache;
  std::vector<char> have;
  // log(alpha + t) per distinct t_x and T when the data are indexed (the same numbers as per row).
  const bool indexed = !d.times.empty() && d.t_x_at.size() == d.size() && d.T_at.size() == d.size();
  std::vector<double> log_time;
  if (indexed) {
    log_time.resize(d.times.size());
    for (size_t k = 0; k < d.times.size(); ++k) log_time[k] = std::log(al + d.times[k]);
  }
  double ll = 0, g_r = 0, g_al = 0, g_a = 0, g_b = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const double x = d.x[i], w = d.w[i];
    const size_t xi = static_cast<size_t>(x);
    if (xi >= cache.size()) cache.resize(xi + 1), have.resize(xi + 1, 0);
    if (!have[xi]) {
      have[xi] = 1;
      XTerms& t = cache[xi];
      t.lg = std::lgamma(r + x) + std::lgamma(b + x) - std::lgamma(a + b + x);
      t.lab = x > 0 ? std::log(a / (b + x - 1)) : 0;
      if (grad) {
        t.dr = gsl_sf_psi(r + x);
        t.da = -gsl_sf_psi(a + b + x);
        t.db = gsl_sf_psi(b + x) - gsl_sf_psi(a + b + x);
      }
    }
    const XTerms& t = cache[xi];
    const double lT = indexed ? log_time[d.T_at[i]] : std::log(al + d.T[i]);
    // log[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
    const double e1 = -(r + x) * lT;
    double s = e1, w2 = 0, lt = 0;
    if (x > 0) {
      lt = indexed ? log_time[d.t_x_at[i]] : std::log(al + d.t_x[i]);
      const double e2 = t.lab - (r + x) * lt;
      s = log_add(e1, e2);
      w2 = std::exp(e2 - s);
    }
    ll += w * (base + t.lg + s);
    if (grad) {
      const double w1 = 1 - w2;
      g_r += w * (base_dr + t.dr - w1 * lT - w2 * lt);
      g_al += w * (r / al - (r + x) * (w1 / (al + d.T[i]) + (x > 0 ? w2 / (al + d.t_x[i]) : 0)));
      g_a += w * (base_da + t.da + (x > 0 ? w2 / a : 0));
      g_b += w * (base_db + t.db - (x > 0 ? w2 / (b + x - 1) : 0));
    }
  }
  if (grad) {
    grad[0] = g_r * r;
    grad[1] = g_al * al;
    grad[2] = g_a * a;
    grad[3] = g_b * b;
  }
  return ll;
}

}  // namespace crm::model
