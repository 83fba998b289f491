// Pareto/NBD likelihood in log space. Its second term A0 = (r+s+x) * integral over the dropout
// time in [t_x, T] of (alpha+v)^-(r+x) (beta+v)^-(s+1) dv is written with 2F1(a, b; a+1; z),
// z = |alpha-beta| / (max(alpha,beta) + t) in [0, 1) (Fader & Hardie, "A Note on Deriving the
// Pareto/NBD Model and Related Expressions", 2005), summed by log_hyp2f1_c_a1.
#include "engine/model/pareto_nbd.hpp"

#include <cmath>
#include <unordered_map>

#include "engine/model/special.hpp"

namespace crm::model {
namespace {

// log A0 for one customer: -inf when t_x == T (the integral over [t_x, T] is empty).
double log_a0(const ParetoNbdParams& p, double x, double t_x, double T) {
  if (!(T > t_x)) return -INFINITY;
  const double a = p.r + p.s + x;
  const bool alpha_big = p.alpha >= p.beta;
  const double M = alpha_big ? p.alpha : p.beta;
  const double D = std::abs(p.alpha - p.beta);
  const double b = alpha_big ? p.s + 1 : p.r + x;
  auto log_f = [&](double t) { return -a * std::log(M + t) + log_hyp2f1_c_a1(a, b, D / (M + t)); };
  const double f1 = log_f(t_x), f2 = log_f(T);
  if (!(f2 < f1)) return -INFINITY;  // rounding when T - t_x is tiny next to M + t_x
  return f1 + std::log1p(-std::exp(f2 - f1));
}

// log of the bracket of the likelihood: (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0.
double log_bracket(const ParetoNbdParams& p, double x, double t_x, double T, double* first = nullptr) {
  const double e1 = -(p.r + x) * std::log(p.alpha + T) - p.s * std::log(p.beta + T);
  if (first) *first = e1;
  const double la0 = log_a0(p, x, t_x, T);
  if (la0 == -INFINITY) return e1;
  return log_add(e1, std::log(p.s) - std::log(p.r + p.s + x) + la0);
}

}  // namespace

double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d) {
  const double base = -std::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
  std::unordered_map<double, double> lg;
  double ll = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const double x = d.x[i];
    auto it = lg.find(x);
    if (it == lg.end()) it = lg.emplace(x, std::lgamma(p.r + x)).first;
    ll += d.w[i] * (base + it->second + log_bracket(p, x, d.t_x[i], d.T[i]));
  }
  return ll;
}

double pareto_p_alive(const ParetoNbdParams& p, double x, double t_x, double T) {
  // 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)
  const double la0 = log_a0(p, x, t_x, T);
  if (la0 == -INFINITY) return 1.0;
  const double l = std::log(p.s) - std::log(p.r + p.s + x) + (p.r + x) * std::log(p.alpha + T) +
                   p.s * std::log(p.beta + T) + la0;
  double v = l > 0 ? std::exp(-l) / (1 + std::exp(-l)) : 1 / (1 + std::exp(l));
  return std::isfinite(v) ? v : 0;
}

namespace {
// (1 - (u/(u+t))^(s-1)) / (s-1), with its limit log((u+t)/u) at s = 1.
double decay_integral(double s, double u, double t) {
  double l = std::log((u + t) / u);
  if (std::abs(s - 1) < 1e-9) return l;
  return -std::expm1(-(s - 1) * l) / (s - 1);
}
}  // namespace

double pareto_expected_purchases(const ParetoNbdParams& p, double t, double x, double t_x, double T) {
  if (!(t > 0)) return 0;
  double v = (p.r + x) / (p.alpha + T) * (p.beta + T) * decay_integral(p.s, p.beta + T, t) * pareto_p_alive(p, x, t_x, T);
  return std::isfinite(v) && v > 0 ? v : 0;
}

double pareto_expected_repeat(const ParetoNbdParams& p, double t) {
  if (!(t > 0)) return 0;
  double v = p.r / p.alpha * p.beta * decay_integral(p.s, p.beta, t);
  return std::isfinite(v) && v > 0 ? v : 0;
}

}  // namespace crm::model
