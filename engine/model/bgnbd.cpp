// BG/NBD likelihood in log space (lgamma, log-sum-exp), its analytic gradient, and predictions.
#include "engine/model/bgnbd.hpp"

#include <gsl/gsl_sf_psi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/lifetime/special.hpp"
#include "engine/model/row_chunks.hpp"

namespace crm::model {
namespace {

// Terms of one customer row that depend on x only, computed once per distinct x.
struct XTerms {
  double lg, dr, da, db;  // lgamma part, and its derivatives by r, a, b
  double lab;             // log(a/(b+x-1)) (x > 0)
};

using Sum = LikelihoodSum<4>;

}  // namespace

double bgnbd_log_likelihood(const BgNbdParams& p, const RfmData& d, double* grad) {
  const double r = p.r, al = p.alpha, a = p.a, b = p.b;
  const double base = -std::lgamma(r) + r * std::log(al) + std::lgamma(a + b) - std::lgamma(b);
  const double base_dr = -gsl_sf_psi(r) + std::log(al);
  const double base_da = gsl_sf_psi(a + b), base_db = gsl_sf_psi(a + b) - gsl_sf_psi(b);
  // Frequencies are whole numbers: the x-only terms in a vector indexed by x (filled before the
  // rows, which are summed in chunks on all cores: row_chunks.hpp).
  size_t max_x = 0;
  for (double x : d.x) max_x = std::max(max_x, static_cast<size_t>(x));
  std::vector<XTerms> cache(d.size() ? max_x + 1 : 0);
  for (size_t xi = 0; xi < cache.size(); ++xi) {
    const double x = static_cast<double>(xi);
    XTerms& t = cache[xi];
    t.lg = std::lgamma(r + x) + std::lgamma(b + x) - std::lgamma(a + b + x);
    t.lab = x > 0 ? std::log(a / (b + x - 1)) : 0;
    if (grad) {
      t.dr = gsl_sf_psi(r + x);
      t.da = -gsl_sf_psi(a + b + x);
      t.db = gsl_sf_psi(b + x) - gsl_sf_psi(a + b + x);
    }
  }
  // log(alpha + t) per distinct t_x and T when the data are indexed (the same numbers as per row).
  const bool indexed = !d.times.empty() && d.t_x_at.size() == d.size() && d.T_at.size() == d.size();
  std::vector<double> log_time;
  if (indexed) {
    log_time.resize(d.times.size());
    for (size_t k = 0; k < d.times.size(); ++k) log_time[k] = std::log(al + d.times[k]);
  }
  const Sum total = sum_row_chunks<Sum>(d.size(), [&](size_t begin, size_t end, Sum& out) {
    for (size_t i = begin; i < end; ++i) {
      const double x = d.x[i], w = d.w[i];
      const XTerms& t = cache[static_cast<size_t>(x)];
      const double lT = indexed ? log_time[d.T_at[i]] : std::log(al + d.T[i]);
      // log[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
      const double e1 = -(r + x) * lT;
      double s = e1, w2 = 0, lt = 0;
      if (x > 0) {
        lt = indexed ? log_time[d.t_x_at[i]] : std::log(al + d.t_x[i]);
        const double e2 = t.lab - (r + x) * lt;
        // log(exp(e1) + exp(e2)) and e2's share, with one exp and one log1p
        const double small = std::exp(-std::abs(e1 - e2));
        s = std::max(e1, e2) + std::log1p(small);
        w2 = (e2 >= e1 ? 1 : small) / (1 + small);
      }
      out.ll += w * (base + t.lg + s);
      if (grad) {
        const double w1 = 1 - w2;
        out.g[0] += w * (base_dr + t.dr - w1 * lT - w2 * lt);
        out.g[1] += w * (r / al - (r + x) * (w1 / (al + d.T[i]) + (x > 0 ? w2 / (al + d.t_x[i]) : 0)));
        out.g[2] += w * (base_da + t.da + (x > 0 ? w2 / a : 0));
        out.g[3] += w * (base_db + t.db - (x > 0 ? w2 / (b + x - 1) : 0));
      }
    }
  });
  const double ll = total.ll, g_r = total.g[0], g_al = total.g[1], g_a = total.g[2], g_b = total.g[3];
  if (grad) {
    grad[0] = g_r * r;
    grad[1] = g_al * al;
    grad[2] = g_a * a;
    grad[3] = g_b * b;
  }
  return ll;
}

}  // namespace crm::model
