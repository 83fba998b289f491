// The per-customer predictions of the lifetime models (BG/NBD, Pareto/NBD, Gamma-Gamma) and their
// parameters: pure math below the pipeline, so frame/ (the p_alive attribute) and model/ (crm fit)
// share one implementation. The likelihoods and the fit stay in engine/model/.
#pragma once

namespace crm::model {

// The unit of t_x, T and of the models' rate parameters (alpha, beta; gamma is money).
enum class TimeUnit { days, weeks };
inline double unit_days(TimeUnit u) { return u == TimeUnit::weeks ? 7.0 : 1.0; }
inline const char* unit_name(TimeUnit u) { return u == TimeUnit::weeks ? "weeks" : "days"; }

struct BgNbdParams {
  double r = 1, alpha = 1, a = 1, b = 1;
};
struct ParetoNbdParams {
  double r = 1, alpha = 1, s = 1, beta = 1;
};
struct GammaGammaParams {
  double p = 1, q = 1, gamma = 1;
};

// BG/NBD. P(alive | x, t_x, T): 1 for a customer without repeat purchases (the model's convention).
double bgnbd_p_alive(const BgNbdParams& p, double x, double t_x, double T);
// P(alive) for x > 0 from its three logarithms log(a/(b+x-1)), log(alpha+T) and log(alpha+t_x):
// what bgnbd_p_alive computes, so that a caller evaluating many customers can take the logs from
// tables (one per x, one per whole day; engine/frame/model_attributes.cpp) with the same result.
double bgnbd_p_alive_of_logs(const BgNbdParams& p, double x, double log_ab, double log_T, double log_tx);
// E[purchases in the next t | x, t_x, T] (the paper's equation 10).
double bgnbd_expected_purchases(const BgNbdParams& p, double t, double x, double t_x, double T);
// Its factor that does not depend on t_x: bgnbd_expected_purchases is, for t > 0,
// bgnbd_expected_of(bgnbd_expected_factor(p, t, x, T), bgnbd_p_alive(p, x, t_x, T)).
double bgnbd_expected_factor(const BgNbdParams& p, double t, double x, double T);
double bgnbd_expected_of(double factor, double p_alive);
// E[X(t)]: expected repeat purchases in the first t after a customer's first purchase.
double bgnbd_expected_repeat(const BgNbdParams& p, double t);

// Pareto/NBD.
double pareto_p_alive(const ParetoNbdParams& p, double x, double t_x, double T);
double pareto_expected_purchases(const ParetoNbdParams& p, double t, double x, double t_x, double T);
double pareto_expected_repeat(const ParetoNbdParams& p, double t);
// log F(t) = log[2F1(a, b; a+1; z) (M+t)^-a] of the Pareto/NBD likelihood (pareto_nbd.cpp) and
// log A0 = log(F(t_x) - F(T)) from the two logs (-inf when empty or lost to rounding).
double pareto_log_f(const ParetoNbdParams& p, double x, double t);
// The arguments of F(t): a = r+s+x; M and m the larger and smaller of alpha and beta; b = s+1
// when alpha is the larger, else r+x. Then z = (M-m)/(M+t) and 1-z = (m+t)/(M+t).
struct ParetoFArgs {
  double a, b, M, m;
  bool alpha_big;
};
ParetoFArgs pareto_f_args(const ParetoNbdParams& p, double x);
double pareto_log_a0_of(double log_f_tx, double log_f_T);

// Gamma-Gamma. E[value of a transaction | x transactions with mean m]; the population mean
// p*gamma/(q-1) when x = 0. NaN when q <= 1 (the population mean does not exist).
double gamma_gamma_expected_value(const GammaGammaParams& g, double x, double mean);

}  // namespace crm::model
