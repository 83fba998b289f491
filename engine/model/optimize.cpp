// BFGS over log-parameters (GSL gsl_multimin_fdfminimizer_vector_bfgs2): positive parameters
// without constraints, and a well-scaled problem. A soft wall past kMaxLogParam keeps the search
// finite when the data do not identify a parameter; the result then says so.
#include "engine/model/optimize.hpp"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace crm::model {
namespace {

constexpr int kMaxIterations = 1000;
constexpr int kRestarts = 4;             // BFGS restarted from its optimum (fresh Hessian estimate)
constexpr double kGradTol = 1e-7;        // |gradient| / max(1, |LL|) at convergence
constexpr double kDiffStep = 1e-7;       // forward differences of the gradient, in log-parameters
constexpr double kHessStep = 1e-4;       // Hessian differences, in log-parameters
constexpr double kWall = 1e4;            // curvature of the soft wall past kMaxLogParam
constexpr int kBfgsBeforeNewton = 25;    // with a gradient: BFGS iterations before Newton takes over
constexpr int kNewtonIterations = 50;

struct Problem {
  const LogLikelihood* ll;
  bool has_gradient;
  size_t n;
  // Negative log-likelihood plus the wall; NaN becomes a huge value so the line search backs off.
  double f(const std::vector<double>& th, double* g) const {
    std::vector<double> lg(n, 0.0);
    double v;
    if (has_gradient) {
      v = -(*ll)(th, g ? lg.data() : nullptr);
      if (g) for (size_t i = 0; i < n; ++i) g[i] = -lg[i];
    } else {
      v = -(*ll)(th, nullptr);
      if (g) {
        // Forward differences: half the evaluations of central ones; their error (~1e-8 of
        // |LL|) is far below the convergence tolerance.
        std::vector<double> t = th;
        for (size_t i = 0; i < n; ++i) {
          t[i] = th[i] + kDiffStep;
          double up = -(*ll)(t, nullptr);
          t[i] = th[i];
          g[i] = (up - v) / kDiffStep;
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      double over = std::abs(th[i]) - kMaxLogParam;
      if (over > 0) {
        v += kWall * over * over;
        if (g) g[i] += 2 * kWall * over * (th[i] > 0 ? 1 : -1);
      }
    }
    if (!std::isfinite(v)) v = 1e300;
    if (g)
      for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(g[i])) g[i] = 0;
    return v;
  }
};

std::vector<double> to_vec(const gsl_vector* v) {
  std::vector<double> out(v->size);
  for (size_t i = 0; i < v->size; ++i) out[i] = gsl_vector_get(v, i);
  return out;
}

double gsl_f(const gsl_vector* x, void* params) {
  return static_cast<Problem*>(params)->f(to_vec(x), nullptr);
}
void gsl_df(const gsl_vector* x, void* params, gsl_vector* g) {
  auto* p = static_cast<Problem*>(params);
  std::vector<double> gv(p->n);
  p->f(to_vec(x), gv.data());
  for (size_t i = 0; i < p->n; ++i) gsl_vector_set(g, i, gv[i]);
}
void gsl_fdf(const gsl_vector* x, void* params, double* f, gsl_vector* g) {
  auto* p = static_cast<Problem*>(params);
  std::vector<double> gv(p->n);
  *f = p->f(to_vec(x), gv.data());
  for (size_t i = 0; i < p->n; ++i) gsl_vector_set(g, i, gv[i]);
}

// Hessian of the negative log-likelihood in log-parameters: differences of the gradient when
// there is one, else of function values.
// With `g_at` (the gradient at th), forward differences: half the work, for Newton steps.
std::vector<double> hessian(const Problem& p, const std::vector<double>& th, const std::vector<double>* g_at = nullptr) {
  const size_t n = p.n;
  const double h = kHessStep;
  std::vector<double> H(n * n);
  if (p.has_gradient) {
    std::vector<double> gu(n), gd(n), t = th;
    for (size_t i = 0; i < n; ++i) {
      t[i] = th[i] + h;
      p.f(t, gu.data());
      if (g_at) {
        gd = *g_at;
      } else {
        t[i] = th[i] - h;
        p.f(t, gd.data());
      }
      t[i] = th[i];
      for (size_t j = 0; j < n; ++j) H[i * n + j] = (gu[j] - gd[j]) / (g_at ? h : 2 * h);
    }
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < i; ++j) H[i * n + j] = H[j * n + i] = (H[i * n + j] + H[j * n + i]) / 2;
    return H;
  }
  auto f = [&](double di, size_t i, double dj, size_t j) {
    std::vector<double> t = th;
    t[i] += di;
    t[j] += dj;
    return p.f(t, nullptr);
  };
  const double f0 = p.f(th, nullptr);
  for (size_t i = 0; i < n; ++i) {
    H[i * n + i] = (f(h, i, 0, i) - 2 * f0 + f(-h, i, 0, i)) / (h * h);
    for (size_t j = 0; j < i; ++j)
      H[i * n + j] = H[j * n + i] = (f(h, i, h, j) - f(h, i, -h, j) - f(-h, i, h, j) + f(-h, i, -h, j)) / (4 * h * h);
  }
  return H;
}

// H^-1 by Cholesky (row-major); empty when H is not positive definite.
std::vector<double> inverse(std::vector<double> H, size_t n) {
  gsl_matrix_view m = gsl_matrix_view_array(H.data(), n, n);
  gsl_error_handler_t* old = gsl_set_error_handler_off();
  int status = gsl_linalg_cholesky_decomp1(&m.matrix);
  if (status == GSL_SUCCESS) status = gsl_linalg_cholesky_invert(&m.matrix);
  gsl_set_error_handler(old);
  if (status != GSL_SUCCESS) return {};
  for (size_t i = 0; i < n; ++i)
    if (!(H[i * n + i] > 0) || !std::isfinite(H[i * n + i])) return {};
  return H;
}

// Solves H d = -g by Cholesky; false when H is not positive definite.
bool newton_direction(std::vector<double> H, const std::vector<double>& g, std::vector<double>& d) {
  const size_t n = g.size();
  gsl_matrix_view m = gsl_matrix_view_array(H.data(), n, n);
  gsl_error_handler_t* old = gsl_set_error_handler_off();
  int status = gsl_linalg_cholesky_decomp1(&m.matrix);
  std::vector<double> rhs(n);
  for (size_t i = 0; i < n; ++i) rhs[i] = -g[i];
  d.assign(n, 0.0);
  gsl_vector_view b = gsl_vector_view_array(rhs.data(), n), x = gsl_vector_view_array(d.data(), n);
  if (status == GSL_SUCCESS) status = gsl_linalg_cholesky_solve(&m.matrix, &b.vector, &x.vector);
  gsl_set_error_handler(old);
  return status == GSL_SUCCESS;
}

// Newton's method with a backtracking line search, from near the optimum (after BFGS): the
// models with an analytic gradient have long curved valleys (Gamma-Gamma's p, q, gamma move
// together) along which BFGS crawls, while a few Newton steps converge quadratically.
bool newton_polish(const Problem& p, std::vector<double>& th, int& iterations) {
  const size_t n = p.n;
  std::vector<double> g(n), d, t(n);
  for (int it = 0; it < kNewtonIterations; ++it) {
    ++iterations;
    double f = p.f(th, g.data());
    double norm = 0;
    for (double v : g) norm += v * v;
    if (std::sqrt(norm) < kGradTol * std::max(1.0, std::abs(f))) return true;
    if (!newton_direction(hessian(p, th, &g), g, d))
      for (size_t i = 0; i < n; ++i) d[i] = -g[i] / std::max(1.0, std::abs(f));  // steepest descent
    double slope = 0;
    for (size_t i = 0; i < n; ++i) slope += g[i] * d[i];
    if (!(slope < 0)) return false;
    double step = 1;
    for (; step > 1e-10; step /= 2) {
      for (size_t i = 0; i < n; ++i) t[i] = th[i] + step * d[i];
      if (p.f(t, nullptr) <= f + 1e-4 * step * slope) break;
    }
    if (step <= 1e-10) return false;
    th = t;
  }
  return false;
}

}  // namespace

MleResult maximize_likelihood(const LogLikelihood& ll, std::vector<double> start, bool has_gradient,
                              const std::vector<std::string>& names) {
  const size_t n = start.size();
  Problem prob{&ll, has_gradient, n};
  gsl_multimin_function_fdf fdf{gsl_f, gsl_df, gsl_fdf, n, &prob};
  std::unique_ptr<gsl_vector, decltype(&gsl_vector_free)> x(gsl_vector_alloc(n), gsl_vector_free);
  std::unique_ptr<gsl_multimin_fdfminimizer, decltype(&gsl_multimin_fdfminimizer_free)> s(
      gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, n), gsl_multimin_fdfminimizer_free);
  MleResult res;
  std::vector<double> th = start;
  gsl_error_handler_t* old = gsl_set_error_handler_off();
  int bfgs_iterations = has_gradient ? kBfgsBeforeNewton : kMaxIterations;
  bool newton_tried = !has_gradient;
  for (int round = 0; round < kRestarts + 1 && !res.converged; ++round) {
    for (size_t i = 0; i < n; ++i) gsl_vector_set(x.get(), i, th[i]);
    gsl_multimin_fdfminimizer_set(s.get(), &fdf, x.get(), 0.1, 0.1);
    for (int it = 0; it < bfgs_iterations; ++it) {
      ++res.iterations;
      int status = gsl_multimin_fdfminimizer_iterate(s.get());
      if (std::getenv("CRM_FIT_TRACE"))
        std::fprintf(stderr, "round %d it %d status %d f %.10g |g| %.3g x0 %.6f\n", round, it, status, s->f,
                     gsl_blas_dnrm2(s->gradient), gsl_vector_get(s->x, 0));
      double tol = kGradTol * std::max(1.0, std::abs(s->f));
      if (gsl_multimin_test_gradient(s->gradient, tol) == GSL_SUCCESS) {
        res.converged = true;
        break;
      }
      if (status != GSL_SUCCESS) break;  // no progress: restart from here
    }
    th = to_vec(s->x);
    if (!newton_tried && !res.converged) {
      // Newton from where BFGS got; when it fails (a Hessian far from positive definite), BFGS
      // carries on without the iteration cap.
      newton_tried = true;
      std::vector<double> t = th;
      if (newton_polish(prob, t, res.iterations) || prob.f(t, nullptr) < prob.f(th, nullptr)) th = t;
      std::vector<double> g(n);
      double f = prob.f(th, g.data()), norm = 0;
      for (double v : g) norm += v * v;
      res.converged = std::sqrt(norm) < kGradTol * std::max(1.0, std::abs(f));
      bfgs_iterations = kMaxIterations;
    }
  }
  // A last check: a restart that made no progress may still sit at the optimum.
  if (!res.converged) {
    std::vector<double> g(n);
    double f = prob.f(th, g.data());
    double norm = 0;
    for (double v : g) norm += v * v;
    res.converged = std::sqrt(norm) < 1e-4 * std::max(1.0, std::abs(f));
    if (!res.converged) res.problem = "the optimiser did not converge";
  }
  gsl_set_error_handler(old);
  for (size_t i = 0; i < n; ++i) {
    if (std::abs(th[i]) > kMaxLogParam - 3) {
      res.converged = false;
      res.problem = "parameter " + names[i] + " runs to " + (th[i] > 0 ? "infinity" : "zero") +
                    ": the data do not identify the model";
    }
  }
  res.log_likelihood = ll(th, nullptr);
  if (!std::isfinite(res.log_likelihood)) {
    res.converged = false;
    res.problem = "the log-likelihood is not finite at the optimum";
  }
  res.params.resize(n);
  for (size_t i = 0; i < n; ++i) res.params[i] = std::exp(th[i]);
  if (res.converged) {
    res.cov = inverse(hessian(prob, th), n);
    if (!res.cov.empty()) {
      res.se.resize(n);
      for (size_t i = 0; i < n; ++i) res.se[i] = res.params[i] * std::sqrt(res.cov[i * n + i]);
    }
  }
  return res;
}

}  // namespace crm::model
