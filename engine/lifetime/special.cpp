// Series for 2F1 on [0, 1) with positive terms; see special.hpp for the forms used.
#include "engine/lifetime/special.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_hyperg.h>

#include <cmath>
#include <limits>

namespace crm::model {
namespace {

// A series stops when a term adds less than this relative amount...
constexpr double kRelTol = 1e-16;
// ...or after this many terms, adding the geometric bound of the tail: reached only when z is
// within 1e-5 of 1, i.e. for parameters (alpha/beta ratios above 1e5) an optimiser only visits.
constexpr int kMaxTerms = 2'000'000;
// Rescale the running sum of log_hyp2f1 past this size so terms never overflow.
constexpr double kRescale = 1e280;

}  // namespace

double log_add(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

double log_hyp2f1_c_a1(double a, double b, double z) {
  if (!(a > 0 && b > 0 && z >= 0 && z < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (z == 0) return 0;
  // 2F1(1, d; a+1; z) with d = a + 1 - b: term_{n+1} = term_n * z * (d + n) / (a + 1 + n).
  const double d = a + 1 - b;
  // d <= 0 (b > a + 1; never in the likelihood, where d = r + x or s + 1) would give terms of
  // both signs: the direct series of positive terms instead.
  if (d <= 0) return log_hyp2f1(a, b, a + 1, z);
  double term = 1, sum = 1;
  for (int n = 0; n < kMaxTerms; ++n) {
    double ratio = z * (d + n) / (a + 1 + n);
    term *= ratio;
    sum += term;
    if (term < kRelTol * sum) break;
    if (n + 1 == kMaxTerms) sum += term * ratio / (1 - ratio);  // ratio < z < 1: the tail's bound
  }
  return (1 - b) * std::log1p(-z) + std::log(sum);
}

double log_hyp2f1(double a, double b, double c, double z) {
  if (!(a > 0 && b > 0 && z >= 0 && z < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (!(c > 0)) {
    // Mixed-sign terms: GSL's implementation (with its own transformations) where it succeeds.
    gsl_error_handler_t* old = gsl_set_error_handler_off();
    gsl_sf_result res;
    int status = gsl_sf_hyperg_2F1_e(a, b, c, z, &res);
    gsl_set_error_handler(old);
    return status == GSL_SUCCESS && res.val > 0 ? std::log(res.val) : std::numeric_limits<double>::quiet_NaN();
  }
  double term = 1, sum = 1, log_scale = 0;
  for (int n = 0; n < kMaxTerms; ++n) {
    double ratio = z * (a + n) * (b + n) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    if (sum > kRescale) {
      sum /= kRescale;
      term /= kRescale;
      log_scale += std::log(kRescale);
    }
    // Terms rise while (a+n)(b+n)z > (c+n)(n+1); stop only once they fall and are negligible.
    if (ratio < 1 && term < kRelTol * sum) break;
    if (n + 1 == kMaxTerms && ratio < 1) sum += term * ratio / (1 - ratio);
  }
  return log_scale + std::log(sum);
}

}  // namespace crm::model
