// The lifetime models' per-customer predictions (see lifetime_math.hpp), moved here from
// engine/model/ so that the frame can compute p_alive and friends.
#include "engine/lifetime/lifetime_math.hpp"

#include <cmath>
#include <limits>

#include "engine/lifetime/special.hpp"

namespace crm::model {

// ---------------------------------------------------------------- BG/NBD
double bgnbd_p_alive_of_logs(const BgNbdParams& p, double x, double log_ab, double log_T, double log_tx) {
  // 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), through the log to avoid overflow.
  double l = log_ab + (p.r + x) * (log_T - log_tx);
  return l > 0 ? std::exp(-l) / (1 + std::exp(-l)) : 1 / (1 + std::exp(l));
}

double bgnbd_p_alive(const BgNbdParams& p, double x, double t_x, double T) {
  if (x <= 0) return 1.0;
  return bgnbd_p_alive_of_logs(p, x, std::log(p.a / (p.b + x - 1)), std::log(p.alpha + T), std::log(p.alpha + t_x));
}

double bgnbd_expected_factor(const BgNbdParams& p, double t, double x, double T) {
  const double r = p.r, al = p.alpha, a = p.a, b = p.b;
  double a_eff = std::abs(a - 1) < 1e-9 ? 1 + 1e-9 : a;  // the formula has a removable pole at a = 1
  double z = t / (al + T + t);
  double lf = log_hyp2f1(r + x, b + x, a_eff + b + x - 1, z);
  double bracket = -std::expm1((r + x) * std::log((al + T) / (al + T + t)) + lf);  // 1 - (..)^(r+x) 2F1
  double lead = (a_eff + b + x - 1) / (a_eff - 1);
  return lead * bracket;
}

double bgnbd_expected_of(double factor, double p_alive) {
  double v = factor * p_alive;
  return std::isfinite(v) && v > 0 ? v : 0;
}

double bgnbd_expected_purchases(const BgNbdParams& p, double t, double x, double t_x, double T) {
  if (!(t > 0)) return 0;
  return bgnbd_expected_of(bgnbd_expected_factor(p, t, x, T), bgnbd_p_alive(p, x, t_x, T));
}

double bgnbd_expected_repeat(const BgNbdParams& p, double t) {
  if (!(t > 0)) return 0;
  double a_eff = std::abs(p.a - 1) < 1e-9 ? 1 + 1e-9 : p.a;
  double lf = log_hyp2f1(p.r, p.b, a_eff + p.b - 1, t / (p.alpha + t));
  double bracket = -std::expm1(p.r * std::log(p.alpha / (p.alpha + t)) + lf);
  double v = (a_eff + p.b - 1) / (a_eff - 1) * bracket;
  return std::isfinite(v) && v > 0 ? v : 0;
}

// ---------------------------------------------------------------- Pareto/NBD
// log F(t) = log[2F1(a, b; a+1; z) (M+t)^-a], z = |alpha-beta| / (M+t), M = max(alpha, beta),
// a = r+s+x, b = s+1 when alpha >= beta else r+x: A0 = F(t_x) - F(T).
ParetoFArgs pareto_f_args(const ParetoNbdParams& p, double x) {
  const bool alpha_big = p.alpha >= p.beta;
  return {p.r + p.s + x, alpha_big ? p.s + 1 : p.r + x, alpha_big ? p.alpha : p.beta, alpha_big ? p.beta : p.alpha,
          alpha_big};
}

double pareto_log_f(const ParetoNbdParams& p, double x, double t) {
  const auto [a, b, M, m, alpha_big] = pareto_f_args(p, x);
  return -a * std::log(M + t) + log_hyp2f1_c_a1(a, b, (M - m) / (M + t), (m + t) / (M + t));
}

// log A0 from log F(t_x) and log F(T): -inf when t_x == T (the integral over [t_x, T] is empty)
// or when rounding makes F(T) >= F(t_x) (T - t_x tiny next to M + t_x).
double pareto_log_a0_of(double f1, double f2) {
  if (!(f2 < f1)) return -INFINITY;
  return f1 + std::log1p(-std::exp(f2 - f1));
}

static double log_a0(const ParetoNbdParams& p, double x, double t_x, double T) {
  if (!(T > t_x)) return -INFINITY;
  return pareto_log_a0_of(pareto_log_f(p, x, t_x), pareto_log_f(p, x, T));
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

// ---------------------------------------------------------------- Gamma-Gamma
double gamma_gamma_expected_value(const GammaGammaParams& g, double x, double mean) {
  if (x <= 0) return g.q > 1 ? g.p * g.gamma / (g.q - 1) : std::numeric_limits<double>::quiet_NaN();
  double den = g.p * x + g.q - 1;
  return den > 0 ? g.p * (g.gamma + x * mean) / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace crm::model
