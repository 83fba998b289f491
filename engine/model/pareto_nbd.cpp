// Pareto/NBD likelihood in log space. Its second term A0 = (r+s+x) * integral over the dropout
// time in [t_x, T] of (alpha+v)^-(r+x) (beta+v)^-(s+1) dv is written with 2F1(a, b; a+1; z),
// z = |alpha-beta| / (max(alpha,beta) + t) in [0, 1) (Fader & Hardie, "A Note on Deriving the
// Pareto/NBD Model and Related Expressions", 2005), summed by log_hyp2f1_c_a1.
#include "engine/model/pareto_nbd.hpp"

#include <cmath>
#include <functional>
#include <unordered_map>
#include <utility>

#include "engine/lifetime/special.hpp"

namespace crm::model {
namespace {

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
    if (fresh) it->second = pareto_log_f(p, x, t);
    return it->second;
  };
  double ll = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const double x = d.x[i];
    auto it = lg.find(x);
    if (it == lg.end()) it = lg.emplace(x, std::lgamma(p.r + x)).first;
    double la0 = d.T[i] > d.t_x[i] ? pareto_log_a0_of(cached_f(x, d.t_x[i]), cached_f(x, d.T[i])) : -INFINITY;
    ll += d.w[i] * (base + it->second + log_bracket(p, x, d.T[i], la0));
  }
  return ll;
}

}  // namespace crm::model
