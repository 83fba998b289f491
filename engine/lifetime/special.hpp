// Special functions for the customer-lifetime models: the Gaussian hypergeometric function 2F1
// on [0, 1), summed as series of positive terms (no cancellation) or integrated where those are long.
#pragma once

namespace crm::model {

// log 2F1(a, b; a + 1; z) for a > 0, b > 0, 0 <= z < 1: the form the Pareto/NBD likelihood needs.
// Summed after Euler's transformation, 2F1(a,b;a+1;z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z), whose
// terms are positive and fall at least as fast as z^n, so it neither overflows nor cancels
// (for b > a + 1, outside the likelihood, the direct series of positive terms is summed).
// Where the series would be long (z near 1 with b small next to a) it switches to a fixed
// quadrature rule of Euler's integral (Gauss-Laguerre or exp-sinh; special.cpp says when), so
// its cost is bounded for any parameters. `one_minus_z` is 1 - z computed without cancellation.
double log_hyp2f1_c_a1(double a, double b, double z);
double log_hyp2f1_c_a1(double a, double b, double z, double one_minus_z);

// The same, log 2F1(a, b; a + 1; z), with its partial derivatives by a, b and z (the Pareto/NBD
// gradient), summed in the same loop: d log S / d(d, a, z) of the Euler series' terms are running
// harmonic sums. Needs a + 1 - b > 0 (always so in the likelihood); NaN otherwise.
struct LogHyp2f1Grad {
  double value = 0, da = 0, db = 0, dz = 0;
};
LogHyp2f1Grad log_hyp2f1_c_a1_grad(double a, double b, double z, double one_minus_z);

// log 2F1(a, b; c; z) for a, b > 0 and 0 <= z < 1 (the BG/NBD expectations): for c > 0 a series
// of positive terms with a rescaled running sum; for c <= 0 (BG/NBD with a + b < 1) GSL's
// gsl_sf_hyperg_2F1. NaN when the value is not positive or cannot be computed.
double log_hyp2f1(double a, double b, double c, double z);

}  // namespace crm::model
