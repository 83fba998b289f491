// Pareto/NBD likelihood in log space with its analytic gradient. Its second term
// A0 = (r+s+x) * integral over the dropout time in [t_x, T] of (alpha+v)^-(r+x) (beta+v)^-(s+1) dv
// is F(t_x) - F(T), F(t) = 2F1(a, b; a+1; z) (M+t)^-a, z = |alpha-beta| / (M+t) in [0, 1)
// (Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related Expressions", 2005),
// summed by log_hyp2f1_c_a1 (value) or log_hyp2f1_c_a1_grad (value and derivatives).
#include "engine/model/pareto_nbd.hpp"

#include <gsl/gsl_sf_psi.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/lifetime/special.hpp"
#include "engine/model/row_chunks.hpp"

namespace crm::model {
namespace {

// log F(x, t) and its derivatives by r, alpha, s, beta.
struct PairTerms {
  double f = 0, dr = 0, dal = 0, ds = 0, dbe = 0;
};

PairTerms pair_terms(const ParetoNbdParams& p, double x, double t, bool grad) {
  if (!grad) return {pareto_log_f(p, x, t)};
  // As pareto_log_f: log F = -a log(M+t) + log 2F1(a, b; a+1; z), z = (M-m)/(M+t).
  const auto [a, b, M, m, alpha_big] = pareto_f_args(p, x);
  const double l_mt = std::log(M + t);
  const LogHyp2f1Grad h = log_hyp2f1_c_a1_grad(a, b, (M - m) / (M + t), (m + t) / (M + t));
  // dz/dM = (m+t)/(M+t)^2, dz/dm = -1/(M+t)
  const double d_big = -a / (M + t) + h.dz * (m + t) / ((M + t) * (M + t)), d_small = -h.dz / (M + t);
  PairTerms o;
  o.f = -a * l_mt + h.value;
  o.dr = -l_mt + h.da + (alpha_big ? 0 : h.db);
  o.ds = -l_mt + h.da + (alpha_big ? h.db : 0);
  o.dal = alpha_big ? d_big : d_small;
  o.dbe = alpha_big ? d_small : d_big;
  return o;
}

const PairTerms kNoPair{};  // a row without A0 points here: its terms never count

struct XTerms {
  double lg = 0, psi = 0, l_rsx = 0;  // lgamma(r+x), digamma(r+x), log(r+s+x)
};
struct TimeTerms {
  double la = 0, lb = 0, ia = 0, ib = 0;  // log(alpha+T), log(beta+T), 1/(alpha+T), 1/(beta+T)
};

using Sum = LikelihoodSum<4>;
// Pairs cost up to ~100 times a row (a series or a quadrature): shared out in smaller chunks
// (each pair's terms are its own, so the chunk size changes no bit).
constexpr size_t kPairChunk = 2048;

struct NoSum {
  NoSum& operator+=(const NoSum&) { return *this; }
};

}  // namespace

ParetoRows index_pareto_rows(const RfmData& d) {
  ParetoRows rows;
  rows.data = &d;
  std::vector<std::pair<double, double>> pairs;
  pairs.reserve(2 * d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    rows.max_x = std::max(rows.max_x, static_cast<size_t>(d.x[i]));
    rows.times.push_back(d.T[i]);
    if (d.T[i] > d.t_x[i]) pairs.emplace_back(d.x[i], d.t_x[i]), pairs.emplace_back(d.x[i], d.T[i]);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::sort(rows.times.begin(), rows.times.end());
  rows.times.erase(std::unique(rows.times.begin(), rows.times.end()), rows.times.end());
  for (const auto& [x, t] : pairs) rows.pair_x.push_back(x), rows.pair_t.push_back(t);
  auto pair_at = [&](double x, double t) {
    return static_cast<uint32_t>(std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(x, t)) - pairs.begin());
  };
  rows.f1_at.resize(d.size());
  rows.f2_at.resize(d.size());
  rows.T_at.resize(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    rows.T_at[i] = static_cast<uint32_t>(std::lower_bound(rows.times.begin(), rows.times.end(), d.T[i]) - rows.times.begin());
    if (d.T[i] > d.t_x[i]) rows.f1_at[i] = pair_at(d.x[i], d.t_x[i]), rows.f2_at[i] = pair_at(d.x[i], d.T[i]);
  }
  return rows;
}

double pareto_log_likelihood(const ParetoNbdParams& p, const ParetoRows& rows, double* grad) {
  const RfmData& d = *rows.data;
  const bool want = grad != nullptr;
  const double r = p.r, al = p.alpha, s = p.s, be = p.beta, ls = std::log(s);
  const double base = -std::lgamma(r) + r * std::log(al) + s * std::log(be);
  const double base_dr = want ? -gsl_sf_psi(r) + std::log(al) : 0, base_dal = r / al, base_ds = std::log(be),
               base_dbe = s / be;
  std::vector<XTerms> xt(rows.max_x + 1);
  for (size_t k = 0; k < xt.size(); ++k) {
    const double x = static_cast<double>(k);
    xt[k].lg = std::lgamma(r + x);
    xt[k].psi = want ? gsl_sf_psi(r + x) : 0;
    xt[k].l_rsx = std::log(r + s + x);
  }
  std::vector<TimeTerms> tt(rows.times.size());
  for (size_t k = 0; k < tt.size(); ++k) {
    const double t = rows.times[k];
    tt[k] = {std::log(al + t), std::log(be + t), 1 / (al + t), 1 / (be + t)};
  }
  std::vector<PairTerms> pt(rows.pair_x.size());
  sum_row_chunks<NoSum>(pt.size(), [&](size_t b, size_t e, NoSum&) {
    for (size_t k = b; k < e; ++k) pt[k] = pair_terms(p, rows.pair_x[k], rows.pair_t[k], want);
  }, kPairChunk);
  const Sum total = sum_row_chunks<Sum>(d.size(), [&](size_t b, size_t e, Sum& out) {
    for (size_t i = b; i < e; ++i) {
      const double x = d.x[i], w = d.w[i];
      const XTerms& X = xt[static_cast<size_t>(x)];
      const TimeTerms& T = tt[rows.T_at[i]];
      // bracket = log[(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) (F(t_x) - F(T))] = log(E + P1 - P2),
      // each term scaled by the larger of the first two (one of them is then 1): two exps, one log.
      const double e1 = -(r + x) * T.la - s * T.lb;
      // No A0 when t_x = T, or when rounding makes F(T) >= F(t_x) (T - t_x tiny next to M + t_x):
      // then the bracket is e1 alone (E = 1, P1 = P2 = 0).
      const PairTerms* f1 = d.T[i] > d.t_x[i] ? &pt[rows.f1_at[i]] : &kNoPair;
      const PairTerms* f2 = f1 != &kNoPair ? &pt[rows.f2_at[i]] : &kNoPair;
      const bool a0 = f1 != &kNoPair && f2->f < f1->f;
      const double c = ls - X.l_rsx, u1 = c + f1->f, u2 = c + f2->f;
      const double top = a0 ? std::max(e1, u1) : e1;
      const double E = !a0 || e1 >= u1 ? 1 : std::exp(e1 - u1);
      const double P1 = !a0 ? 0 : e1 >= u1 ? std::exp(u1 - e1) : 1, P2 = a0 ? std::exp(u2 - top) : 0;
      const double S = E + P1 - P2;
      out.ll += w * (base + X.lg + top + std::log(S));  // log(1) = 0 without A0
      if (!want) continue;
      // d bracket = (E de1 + P1 (dc + dF1) - P2 (dc + dF2)) / S, dF = d log F
      const double k = 1 / S, wE = E * k, w1 = P1 * k, w2 = P2 * k, wc = w1 - w2, i_rsx = 1 / (r + s + x);
      out.g[0] += w * (base_dr + X.psi - wE * T.la - wc * i_rsx + w1 * f1->dr - w2 * f2->dr);
      out.g[1] += w * (base_dal - wE * (r + x) * T.ia + w1 * f1->dal - w2 * f2->dal);
      out.g[2] += w * (base_ds - wE * T.lb + wc * (1 / s - i_rsx) + w1 * f1->ds - w2 * f2->ds);
      out.g[3] += w * (base_dbe - wE * s * T.ib + w1 * f1->dbe - w2 * f2->dbe);
    }
  });
  if (want) {
    grad[0] = total.g[0] * r;
    grad[1] = total.g[1] * al;
    grad[2] = total.g[2] * s;
    grad[3] = total.g[3] * be;
  }
  return total.ll;
}

double pareto_log_likelihood(const ParetoNbdParams& p, const RfmData& d) {
  return pareto_log_likelihood(p, index_pareto_rows(d));
}

}  // namespace crm::model
