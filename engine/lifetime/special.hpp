// Special functions for the customer-lifetime models: log-space helpers and the Gaussian
// hypergeometric function 2F1 on [0, 1), summed as series of positive terms (no cancellation).
#pragma once

namespace crm::model {

// log(exp(a) + exp(b)), exact when either is -inf.
double log_add(double a, double b);

// log 2F1(a, b; a + 1; z) for a > 0, b > 0, 0 <= z < 1: the form the Pareto/NBD likelihood needs.
// Summed after Euler's transformation, 2F1(a,b;a+1;z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z), whose
// terms are positive and fall at least as fast as z^n, so it neither overflows nor cancels
// (for b > a + 1, outside the likelihood, the direct series of positive terms is summed).
double log_hyp2f1_c_a1(double a, double b, double z);

// log 2F1(a, b; c; z) for a, b > 0 and 0 <= z < 1 (the BG/NBD expectations): for c > 0 a series
// of positive terms with a rescaled running sum; for c <= 0 (BG/NBD with a + b < 1) GSL's
// gsl_sf_hyperg_2F1. NaN when the value is not positive or cannot be computed.
double log_hyp2f1(double a, double b, double c, double z);

}  // namespace crm::model
