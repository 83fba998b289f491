// Fitting the three models on a store (see fit.hpp): data checks with clear messages, the
// maximum-likelihood fits, the holdout comparison and the weekly tracking curves.
#include "engine/model/fit.hpp"

#include <fmt/format.h>

#include "engine/store/sql_session.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "engine/model/optimize.hpp"

namespace crm::model {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void check(const MleResult& m, const char* model) {
  if (!m.converged)
    throw FitError(std::string(model) + ": " + m.problem,
                   "the models need many customers with repeat purchases over a span of time; "
                   "try an earlier --holdout-from, a later --as-of, or --models to fit the others");
}

// The standard error of exp(c . theta) = value, a parameter that is a fixed combination of the
// fitted log-parameters (delta method over their covariance); NaN without one.
double se_of(const MleResult& m, const std::vector<double>& c, double value) {
  const size_t n = c.size();
  if (m.cov.size() != n * n) return NAN;
  double var = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) var += c[i] * c[j] * m.cov[i * n + j];
  return value * std::sqrt(std::max(0.0, var));
}

// Models are fitted over log-parameters in which the data's well-determined quantities (mean
// rates, mean spend) are axes; `to_params` turns the optimum back into the papers' parameters,
// `rows[k]` giving log(param k) as a combination of theta (for the standard errors).
void to_params(MleResult& m, const std::vector<double>& params, const std::vector<std::vector<double>>& rows) {
  std::vector<double> se(params.size(), NAN);
  for (size_t k = 0; k < params.size(); ++k) se[k] = se_of(m, rows[k], params[k]);
  m.params = params;
  if (!m.se.empty()) m.se = se;
}

ModelFit fit_record(const char* name, std::vector<std::string> names, const MleResult& m, double customers, double secs) {
  ModelFit f;
  f.name = name;
  f.names = std::move(names);
  f.params = m.params;
  f.se = m.se.empty() ? std::vector<double>(m.params.size(), NAN) : m.se;
  f.log_likelihood = m.log_likelihood;
  f.customers = customers;
  f.iterations = m.iterations;
  f.seconds = secs;
  return f;
}

double weighted_mean(const std::vector<double>& v, const std::vector<double>& w) {
  double s = 0, n = 0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i] * w[i], n += w[i];
  return n > 0 ? s / n : 0;
}

}  // namespace

FitResult fit_models(engine::SqlSession& db, const FitOptions& o) {
  FitResult res;
  res.unit = o.unit;
  auto t0 = Clock::now();
  PurchaseDays p = load_purchase_days(db, o.as_of);
  res.load_seconds = since(t0);
  if (p.days.empty())
    throw FitError(o.as_of ? "no paid orders on or before " + format_date(*o.as_of) : "the store has no paid orders",
                   "import a shop first (crm import ...) or choose a later --as-of");
  Days as_of = o.as_of ? *o.as_of : p.last_day;
  res.first_day = p.first_day;
  res.calibration_end = as_of;
  if (o.holdout_from) {
    if (*o.holdout_from > as_of)
      throw FitError("--holdout-from " + format_date(*o.holdout_from) + " is after the last day used, " + format_date(as_of),
                     "the holdout runs from --holdout-from to --as-of (default: the last paid order's day)");
    if (*o.holdout_from <= p.first_day)
      throw FitError("--holdout-from " + format_date(*o.holdout_from) + " leaves no calibration period (the first purchase is on " +
                         format_date(p.first_day) + ")",
                     "choose a later --holdout-from");
    res.calibration_end = *o.holdout_from - 1;
    res.holdout_end = as_of;
  }
  RfmSummary s = summarize(p, res.calibration_end, o.unit, res.holdout_end);
  if (std::getenv("CRM_FIT_TRACE")) std::fprintf(stderr, "load+summary %.3f s\n", since(t0));
  res.customers = static_cast<int64_t>(s.customers.size());
  for (const auto& c : s.customers) {
    res.repeat_buyers += c.x > 0;
    res.purchase_days += 1 + c.x;
  }
  const std::string span = "up to " + format_date(res.calibration_end);
  if (res.customers < 2)
    throw FitError("only " + std::to_string(res.customers) + " customer with purchases " + span +
                       ": the models describe many customers",
                   "fit on a store with hundreds of customers or more");
  bool any_time = false;
  for (const auto& c : s.customers) any_time |= c.T > 0;
  if (!any_time)
    throw FitError("every purchase " + span + " is on one day (" + format_date(res.calibration_end) +
                       "): there is no time in which to observe repeat purchases",
                   "fit once the store holds some weeks of orders");
  if (res.repeat_buyers == 0 && (o.bgnbd || o.pareto || o.gamma_gamma))
    throw FitError("no customer bought again " + span + " (every customer has one purchase day)",
                   "the models learn from repeat purchases; fit when some customers have bought twice");

  RfmData d = frequency_data(s);
  if (std::getenv("CRM_FIT_TRACE")) std::fprintf(stderr, "rows %zu, %.3f s\n", d.size(), since(t0));
  const double mean_T = std::max(weighted_mean(d.T, d.w), 1e-3);
  const double mean_x = std::max(weighted_mean(d.x, d.w), 1e-2);
  const double alpha0 = std::max(mean_T / mean_x, 1e-3);

  auto tell = [&](const char* model) {
    if (o.progress && d.size() >= kProgressRows)
      o.progress(fmt::format("fitting {} on {} distinct (x, t_x, T) rows of {} customers", model, d.size(), d.customers));
  };
  if (o.bgnbd) {
    tell("BG/NBD");
    auto t = Clock::now();
    // Over theta = log(r, r/alpha, a/b, a+b): the mean purchase rate and the odds of dropping out
    // after a purchase are axes; when drop-out hardly varies, a+b runs large along its own axis.
    auto bg = [](const std::vector<double>& th) {
      const double k = std::exp(th[3]), o = std::exp(th[2]);
      return BgNbdParams{std::exp(th[0]), std::exp(th[0] - th[1]), k * o / (1 + o), k / (1 + o)};
    };
    LogLikelihood ll = [&](const std::vector<double>& th, double* g) {
      const BgNbdParams q = bg(th);
      double v = bgnbd_log_likelihood(q, d, g);
      if (g) {
        const double share_a = q.a / (q.a + q.b);  // d log a / d th2 = 1 - share_a, d log b / d th2 = -share_a
        const double ga = g[2], gb = g[3];
        g[0] += g[1], g[1] = -g[1];
        g[2] = ga * (1 - share_a) - gb * share_a;
        g[3] = ga + gb;
      }
      return v;
    };
    MleResult m = maximize_likelihood(ll, {0, -std::log(alpha0), 0, std::log(2.0)}, true, {"r", "r/alpha", "a/b", "a+b"});
    {
      const BgNbdParams q = bg({std::log(m.params[0]), std::log(m.params[1]), std::log(m.params[2]), std::log(m.params[3])});
      const double share_a = q.a / (q.a + q.b);
      to_params(m, {q.r, q.alpha, q.a, q.b}, {{1, 0, 0, 0}, {1, -1, 0, 0}, {0, 0, 1 - share_a, 1}, {0, 0, -share_a, 1}});
    }
    check(m, "BG/NBD");
    res.bgnbd = BgNbdParams{m.params[0], m.params[1], m.params[2], m.params[3]};
    res.fits.push_back(fit_record(kBgNbd, {"r", "alpha", "a", "b"}, m, d.customers, since(t)));
  }
  if (o.pareto) {
    tell("Pareto/NBD");
    auto t = Clock::now();
    const ParetoRows rows = index_pareto_rows(d);
    // Fitted over the shapes and the mean rates, theta = log(r, r/alpha, s, s/beta): the means
    // are what the data pin down, and when the rates hardly vary between customers the shapes
    // run to large values along one axis each instead of along a curved valley of (r, alpha).
    LogLikelihood ll = [&](const std::vector<double>& th, double* g) {
      ParetoNbdParams q{std::exp(th[0]), std::exp(th[0] - th[1]), std::exp(th[2]), std::exp(th[2] - th[3])};
      double v = pareto_log_likelihood(q, rows, g);
      if (g) g[0] += g[1], g[1] = -g[1], g[2] += g[3], g[3] = -g[3];
      return v;
    };
    // From BG/NBD's purchase-rate estimates when there are some: the two models agree roughly.
    std::vector<double> start = {0, -std::log(alpha0), 0, -std::log(mean_T)};
    // From BG/NBD's r and alpha, to 4 significant digits: a start that does not move with the
    // last bits of the BG/NBD optimum.
    auto round4 = [](double v) { return std::stod(fmt::format("{:.4g}", v)); };
    if (res.bgnbd) start[0] = std::log(round4(res.bgnbd->r)), start[1] = start[0] - std::log(round4(res.bgnbd->alpha));
    MleResult m = maximize_likelihood(ll, start, true, {"r", "r/alpha", "s", "s/beta"});
    to_params(m, {m.params[0], m.params[0] / m.params[1], m.params[2], m.params[2] / m.params[3]},
              {{1, 0, 0, 0}, {1, -1, 0, 0}, {0, 0, 1, 0}, {0, 0, 1, -1}});
    check(m, "Pareto/NBD");
    res.pareto = ParetoNbdParams{m.params[0], m.params[1], m.params[2], m.params[3]};
    res.fits.push_back(fit_record(kParetoNbd, {"r", "alpha", "s", "beta"}, m, d.customers, since(t)));
  }
  if (o.gamma_gamma) {
    auto t = Clock::now();
    SpendData sd = spend_data(s);
    res.spend_left_out = sd.left_out;
    if (sd.size() == 0)
      throw FitError("Gamma-Gamma: no repeat buyer " + span + " has a positive mean spend (" + std::to_string(sd.left_out) +
                         " with zero or negative order totals)",
                     "the spend model needs positive order totals; check orders.total, or --models bgnbd,pareto_nbd");
    double mean_m = weighted_mean(sd.mean, sd.w);
    // Over theta = log(p, q, p gamma): p gamma / (q - 1) is the mean spend, which the data pin
    // down; p and gamma alone trade off along a long valley.
    LogLikelihood ll = [&](const std::vector<double>& th, double* g) {
      GammaGammaParams q{std::exp(th[0]), std::exp(th[1]), std::exp(th[2] - th[0])};
      double v = gamma_gamma_log_likelihood(q, sd, g);
      if (g) g[0] -= g[2];
      return v;
    };
    MleResult m = maximize_likelihood(ll, {0, std::log(2.0), std::log(mean_m)}, true, {"p", "q", "p*gamma"});
    to_params(m, {m.params[0], m.params[1], m.params[2] / m.params[0]}, {{1, 0, 0}, {0, 1, 0}, {-1, 0, 1}});
    check(m, "Gamma-Gamma");
    res.gamma_gamma = GammaGammaParams{m.params[0], m.params[1], m.params[2]};
    res.fits.push_back(fit_record(kGammaGamma, {"p", "q", "gamma"}, m, sd.customers, since(t)));
  }

  // Holdout: expected purchases over its length for each (x, t_x, T), against the actual days.
  if (res.holdout_end) {
    const double t_star = (*res.holdout_end - res.calibration_end) / unit_days(o.unit);
    res.holdout.resize(kTopGroup + 1);
    for (int g = 0; g <= kTopGroup; ++g) res.holdout[static_cast<size_t>(g)].x = g;
    for (const auto& c : s.customers) {
      auto& h = res.holdout[static_cast<size_t>(std::min(c.x, kTopGroup))];
      ++h.customers;
      h.actual += c.holdout;
    }
    for (size_t i = 0; i < d.size(); ++i) {
      auto& h = res.holdout[static_cast<size_t>(std::min(static_cast<int>(d.x[i]), kTopGroup))];
      if (res.bgnbd) h.bgnbd += d.w[i] * bgnbd_expected_purchases(*res.bgnbd, t_star, d.x[i], d.t_x[i], d.T[i]);
      if (res.pareto) h.pareto += d.w[i] * pareto_expected_purchases(*res.pareto, t_star, d.x[i], d.t_x[i], d.T[i]);
    }
  }

  // Tracking: weekly repeat purchases of the cohort, actual and expected (from first purchases).
  const Days end = res.holdout_end ? *res.holdout_end : res.calibration_end;
  Days start = res.calibration_end;
  std::map<Days, double> firsts;  // first purchase day -> customers
  for (const auto& c : s.customers) {
    start = std::min(start, c.first);
    firsts[c.first] += 1;
  }
  const size_t weeks = static_cast<size_t>((end - start) / 7 + 1);
  res.tracking.resize(weeks);
  for (size_t k = 0; k < weeks; ++k) res.tracking[k].start = start + static_cast<Days>(7 * k);
  for (size_t i = 0; i < p.customers(); ++i) {
    size_t b = p.begin[i], e = p.begin[i + 1];
    if (p.days[b] > res.calibration_end) continue;
    for (size_t k = b + 1; k < e && p.days[k] <= end; ++k) res.tracking[static_cast<size_t>((p.days[k] - start) / 7)].actual += 1;
  }
  double prev_bg = 0, prev_pn = 0;
  for (size_t k = 0; k < weeks; ++k) {
    Days week_end = std::min<Days>(res.tracking[k].start + 6, end);
    double bg = 0, pn = 0;
    for (const auto& [f, n] : firsts) {
      if (f >= week_end) continue;
      double t = (week_end - f) / unit_days(o.unit);
      if (res.bgnbd) bg += n * bgnbd_expected_repeat(*res.bgnbd, t);
      if (res.pareto) pn += n * pareto_expected_repeat(*res.pareto, t);
    }
    res.tracking[k].bgnbd = bg - prev_bg;
    res.tracking[k].pareto = pn - prev_pn;
    prev_bg = bg;
    prev_pn = pn;
  }
  return res;
}

}  // namespace crm::model
