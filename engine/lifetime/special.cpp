// Series for 2F1 on [0, 1) with positive terms; see special.hpp for the forms used.
#include "engine/lifetime/special.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_hyperg.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

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


namespace {

// The Euler-transformed series of log 2F1(a, b; a+1; z), see special.hpp; with `g`, also its
// derivatives (the running harmonic sums of d log t_n / d(d, a)).
double euler_series(double a, double b, double z, double l1z, LogHyp2f1Grad* g) {
  const double d = a + 1 - b;
  // S = sum_n t_n, t_n = prod_{k<n} z (d+k) / (a+1+k): d log t_n / dz = n / z,
  // d log t_n / dd = sum_{k<n} 1/(d+k), d log t_n / da = -sum_{k<n} 1/(a+1+k).
  double term = 1, sum = 1, s_n = 0, s_d = 0, s_a = 0, h_d = 0, h_a = 0;
  for (int n = 0; n < kMaxTerms; ++n) {
    const double ratio = z * (d + n) / (a + 1 + n);
    term *= ratio;
    sum += term;
    if (!g) {
      if (term < kRelTol * sum) break;
      if (n + 1 == kMaxTerms) sum += term * ratio / (1 - ratio);  // ratio < z < 1: the tail's bound
      continue;
    }
    h_d += 1 / (d + n);
    h_a += 1 / (a + 1 + n);
    s_n += (n + 1) * term;
    s_d += h_d * term;
    s_a += h_a * term;
    // The derivative sums weigh a term by up to n + 1 + h_d + h_a: stop once that is negligible.
    if (term * (n + 1 + h_d + h_a) < kRelTol * sum) break;
  }
  const double value = (1 - b) * l1z + std::log(sum);
  if (g) {
    const double dlog_z = z > 0 ? s_n / (z * sum) : d / (a + 1);  // at z = 0: the first term's slope
    const double dlog_d = s_d / sum, dlog_a = -s_a / sum;
    g->value = value;
    g->da = dlog_a + dlog_d;  // d = a + 1 - b
    g->db = -l1z - dlog_d;
    g->dz = (b - 1) / (1 - z) + dlog_z;
  }
  return value;
}

// A fixed rule for int_0^inf F(u) du ~ sum_k exp(log_w[k]) F(v[k]), used for Euler's integral
// 2F1(a, b; a+1; z) = int_0^inf e^-u (1 - z e^(-u/a))^-b du (w = e^(-u/a) in Euler's).
struct Rule {
  std::vector<double> v, log_w;
};

// Gauss-Laguerre (GSL's fixed rule; its e^-v weight folded into log_w): exact for e^-v times a
// polynomial. Scaled by kappa (u = v / kappa), the integrand's initial decay rate, it is accurate
// when the integrand is close to an exponential: when e^-u dominates (a (1-z) large next to b),
// or when b is large (the factor (1 - z e^(-u/a))^-b then has a log-curvature of 1/b of its
// squared slope).
const Rule& laguerre_rule() {
  static const Rule rule = [] {
    Rule r;
    constexpr size_t kNodes = 32;
    gsl_integration_fixed_workspace* w =
        gsl_integration_fixed_alloc(gsl_integration_fixed_laguerre, kNodes, 0.0, 1.0, 0.0, 0.0);
    const double* x = gsl_integration_fixed_nodes(w);
    const double* wt = gsl_integration_fixed_weights(w);
    for (size_t k = 0; k < kNodes; ++k) r.v.push_back(x[k]), r.log_w.push_back(std::log(wt[k]) + x[k]);
    gsl_integration_fixed_free(w);
    return r;
  }();
  return rule;
}

// exp-sinh (double exponential, Takahasi & Mori): u = exp(pi/2 sinh tau), trapezoids in tau.
// Its nodes span u from 1e-30 to 40 log-evenly in the middle: it resolves the factor's fall at
// any scale a (1-z), where Laguerre would need hundreds of nodes.
const Rule& exp_sinh_rule() {
  static const Rule rule = [] {
    Rule r;
    constexpr double kStep = 1.0 / 12;
    for (double tau = -4.5; tau <= 2.7; tau += kStep) {
      const double lu = M_PI / 2 * std::sinh(tau), u = std::exp(lu);
      // e^-u past u = 40 is below 1e-17 of the integral (the factor is at least 1 there)
      if (u > 40) break;
      r.v.push_back(u);
      r.log_w.push_back(std::log(kStep * M_PI / 2 * std::cosh(tau)) + lu);
    }
    return r;
  }();
  return rule;
}

// The rule at u = v / scale. Derivatives: the integrals of d log F / d(a, b, z) by the same rule
// (the scale only places the nodes; the integral does not depend on it).
double quadrature(const Rule& rule, double scale, double a, double b, double z, double eps, LogHyp2f1Grad* g) {
  const size_t n = rule.v.size();
  double u[128], lv[128], om[128], ex[128];
  const double l_scale = std::log(scale);
  double top = -INFINITY;
  for (size_t k = 0; k < n; ++k) {
    u[k] = rule.v[k] / scale;
    const double em1 = std::expm1(-u[k] / a);
    ex[k] = 1 + em1;
    om[k] = eps - z * em1;  // 1 - z e^(-u/a), without cancellation
    lv[k] = rule.log_w[k] - l_scale - u[k] - b * std::log(om[k]);
    top = std::max(top, lv[k]);
  }
  double sum = 0, s_a = 0, s_b = 0, s_z = 0;
  for (size_t k = 0; k < n; ++k) {
    const double w = std::exp(lv[k] - top);
    sum += w;
    if (!g) continue;
    const double q = z * ex[k];
    s_a += w * b * q * u[k] / (a * a * om[k]);  // d log h / da, h = (1 - z e^(-u/a))^-b
    s_b += w * -std::log(om[k]);
    s_z += w * b * ex[k] / om[k];
  }
  const double value = top + std::log(sum);
  if (g) *g = {value, s_a / sum, s_b / sum, s_z / sum};
  return value;
}

// Which way to compute: the series when it is short (terms fall at least like z^n and like
// ((a+1)/(a+1+n))^b, so about min(37/(1-z), (a+1)(e^(37/b) - 1)) terms reach 1e-16), else one
// of the two rules. Their agreement with the series: tests/unit/test_pareto_numerics.cpp.
enum class Method { series, laguerre, exp_sinh };
constexpr double kSeriesTerms = 200;  // about the cost of the 32 Laguerre nodes (each a log and two exps)
constexpr double kLaguerreSlack = 4;  // a (1-z) / b at least this: e^-u dominates the integrand
constexpr double kLaguerreB = 30;     // or b at least this: the factor is nearly exponential

Method choose(double a, double b, double eps) {
  const double n1 = 37 / eps, n2 = b > 0 ? (a + 1) * std::expm1(std::min(37 / b, 700.0)) : INFINITY;
  if (std::min(n1, n2) <= kSeriesTerms) return Method::series;
  return a * eps >= kLaguerreSlack * b || b >= kLaguerreB ? Method::laguerre : Method::exp_sinh;
}

// The integrand's decay rate at u = 0, 1 + b z / (a (1-z)): the scale of the Laguerre nodes.
double laguerre_scale(double a, double b, double z, double eps) { return 1 + b * z / (a * eps); }

}  // namespace

double log_hyp2f1_c_a1(double a, double b, double z) { return log_hyp2f1_c_a1(a, b, z, 1 - z); }

double log_hyp2f1_c_a1(double a, double b, double z, double one_minus_z) {
  if (!(a > 0 && b > 0 && z >= 0 && z < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (z == 0) return 0;
  // d = a + 1 - b <= 0 (b > a + 1; never in the likelihood, where d = r + x or s + 1) would give
  // terms of both signs: the direct series of positive terms instead.
  if (a + 1 - b <= 0) return log_hyp2f1(a, b, a + 1, z);
  switch (choose(a, b, one_minus_z)) {
    case Method::laguerre:
      return quadrature(laguerre_rule(), laguerre_scale(a, b, z, one_minus_z), a, b, z, one_minus_z, nullptr);
    case Method::exp_sinh: return quadrature(exp_sinh_rule(), 1, a, b, z, one_minus_z, nullptr);
    case Method::series: break;
  }
  return euler_series(a, b, z, std::log(one_minus_z), nullptr);
}

LogHyp2f1Grad log_hyp2f1_c_a1_grad(double a, double b, double z, double one_minus_z) {
  LogHyp2f1Grad g;
  if (!(a > 0 && b > 0 && z >= 0 && z < 1 && a + 1 - b > 0)) {
    g.value = g.da = g.db = g.dz = std::numeric_limits<double>::quiet_NaN();
    return g;
  }
  switch (choose(a, b, one_minus_z)) {
    case Method::laguerre:
      quadrature(laguerre_rule(), laguerre_scale(a, b, z, one_minus_z), a, b, z, one_minus_z, &g);
      break;
    case Method::exp_sinh: quadrature(exp_sinh_rule(), 1, a, b, z, one_minus_z, &g); break;
    case Method::series: euler_series(a, b, z, std::log(one_minus_z), &g); break;
  }
  return g;
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
