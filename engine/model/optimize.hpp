// Maximum likelihood in log-parameters with GSL's multimin (vector BFGS2), and standard errors
// from the inverse of the numerical Hessian of the negative log-likelihood at the optimum.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace crm::model {

// The log-likelihood at log-parameters `theta`; fills `grad` (d LL / d theta) when it is
// non-null and the model has an analytic gradient.
using LogLikelihood = std::function<double(const std::vector<double>& theta, double* grad)>;

struct MleResult {
  std::vector<double> params;  // exp(theta) at the optimum
  std::vector<double> se;      // standard errors of params (delta method); empty when the
                               // Hessian is not positive definite
  std::vector<double> cov;     // covariance of the log-parameters (row-major n x n, the inverse
                               // Hessian); empty with se
  double log_likelihood = 0;
  int iterations = 0;
  bool converged = false;
  std::string problem;         // why it did not converge (for the message), empty when it did
};

// Maximises `ll` from `start` (log-parameters). Without an analytic gradient (has_gradient =
// false) central differences are used. A parameter whose log runs past +-kMaxLogParam is
// reported as not identified by the data (problem names it from `names`).
constexpr double kMaxLogParam = 23;  // e^23 ~ 1e10: a rate or shape that large is "infinite"
MleResult maximize_likelihood(const LogLikelihood& ll, std::vector<double> start, bool has_gradient,
                              const std::vector<std::string>& names);

}  // namespace crm::model
