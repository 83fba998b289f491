// Pareto/NBD likelihood in log space. Its second term A0 = (r+s+x) * integral over the dropout
// time in [t_x, T] of (alpha+v)^-(r+x) (beta+v)^-(s+1) dv is written with 2F1(a, b; a+1; z),
// z = |alpha-beta| / (max(alpha,beta) + t) in [0, 1) (Fader & Hardie, "A Note on Deriving the
// Pareto/NBD Model and Related Expressions", 2005), summed by log_hyp2f1_c_a1.
#include "engine/model/pareto_nbd.hpp"

#include <cmath>
#include <functional>
#include <unordered_map>
#include <utility>

#include "engine/model/special.hpp"

namespace crm::model {
namespace {

// log F(t) = log[2F1(a, b; a+1; z) (M+t)^-a], z = |alpha-beta| / (M+t), M = max(alpha, beta),
// a = r+s+x, b = s+1 when alpha >= beta else r+x: A0 = F(t_x) - F(T).
double log_f(const ParetoNbdParams& p, double x, double t) {
  const double a = p.r + p.s + x;
  const bool alpha_big = p.alpha >= p.beta;
  const double M = alpha_big ? p.alpha : p.beta;
  const double b = alpha_big ? p.s + 1 : p.r + x;
  return -a * std::log(M + t) + log_hyp2f1_c_a1(a, b, std::abs(p.alpha - p.beta) / (M + t));
}

// log A0 from log F(t_x) and log F(T): -inf when t_x == T (the integral over [t_x, T] is empty)
// or when rounding makes F(T) >= F(t_x) (T - t_x tiny next to M + t_x).
double log_a0_of(double f1, double f2) {
  if (!(f2 < f1)) return -INFINITY;
  return f1 + std::log1p(-std::exp(f2 - f1));
}

double log_a0(const ParetoNbdParams& p, double x, double t_x, double T) {
  if (!(T > t_x)) return -INFINITY;
  return log_a0_of(log_f(p, x, t_x), log_f(p, x, T));
}

// log of the bracket of the likelihood, (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0.
double log_bracket(const ParetoNbdParams& p, double x, double T, double la0) {
  const double e1 = -(p.r + x) * std::log(p.alpha + T) - p.s * std::log(p.beta + T);
  if (la0 == -INFINITY) return e1;
  return log_add(e1, std::log(p.s) - std::log(p.r + p.s + x) + la0);
}

struct PairHash {
  size_t operator()(const std::pair<double, double>& k) const {
    return std::hash<double>()(k.first) * 1000003u ^ std::hash<double>()(k.second);
  }
};

}  // namespace

double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d) {
  const double base = -std::lgamma(p.r) + p.r * std::log(p.alpha) + p.s * std::log(p.beta);
  // The series cost most: F depends on (x, t) only, and many customers share an x with a t_x
  // (the same last purchase day) or a T (the same first purchase day). Each is computed once.
  std::unordered_map<double, double> lg;
  std::unordered_map<std::pair<double, double>, double, PairHash> f;
  auto cached_f = [&](double x, double t) {
    auto [it, fresh] = f.try_emplace({x, t}, 0.0);
    if (fresh) it->second = log_f(p, x, t);
    return it->second;
  };
  double ll = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const double x = d.x[i];
    auto it = lg.find(x);
    if (it == lg.end()) it = lg.emplace(x, std::lgamma(p.r + x)).first;
    double la0 = d.T[i] > d.t_x[i] ? log_a0_of(cached_f(x, d.t_x[i]), cached_f(x, d.T[i])) : -INFINITY;
    ll += d.w[i] * (base + it->second + log_bracket(p, x, d.T[i], la0));
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
