// Units of the Pareto/NBD numerics (engine/lifetime/special.cpp, engine/model/pareto_nbd.cpp,
// row_chunks.hpp): 2F1(a, b; a+1; z) by series or quadrature agrees with the general series, its
// derivatives and the likelihood's gradient agree with differences, and chunked sums do not
// depend on the number of threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/lifetime/special.hpp"
#include "engine/model/bgnbd.hpp"
#include "engine/model/gamma_gamma.hpp"
#include "engine/model/pareto_nbd.hpp"
#include "engine/model/row_chunks.hpp"

using namespace crm::model;

namespace {

// Sets CRM_FIT_THREADS for the life of the object.
struct FitThreads {
  explicit FitThreads(int n) { ::setenv("CRM_FIT_THREADS", std::to_string(n).c_str(), 1); }
  ~FitThreads() { ::unsetenv("CRM_FIT_THREADS"); }
};

// Customers drawn from a Pareto/NBD population (days), merged into rows as frequency_data does.
RfmData synthetic_rows(size_t customers, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> lambda(0.8, 1 / 40.0), mu(0.6, 1 / 300.0);
  std::uniform_int_distribution<int> first(0, 700);
  RfmData d;
  for (size_t c = 0; c < customers; ++c) {
    const double T = 730 - first(rng), l = lambda(rng), death = std::exponential_distribution<double>(mu(rng))(rng);
    double t = 0, last = 0;
    int x = 0;
    std::exponential_distribution<double> gap(l);
    while ((t += gap(rng)) < std::min(T, death)) last = std::floor(t), ++x;
    d.x.push_back(x), d.t_x.push_back(last), d.T.push_back(T), d.w.push_back(1);
    d.customers += 1;
  }
  return d;
}

}  // namespace

TEST_CASE("special: 2F1(a, b; a+1; z) by series, Gauss-Laguerre or exp-sinh agrees with the general series") {
  // The reference: the general series of positive terms in Euler's form, (1-z)^(1-b) 2F1(1, a+1-b;
  // a+1; z), whose terms fall at least like z^n (the plain 2F1(a, b; a+1; z) rises for ~b/(1-z)
  // terms first: beyond its 2M-term cap here).
  auto ref = [](double a, double b, double eps) { return (1 - b) * std::log(eps) + log_hyp2f1(1, a + 1 - b, a + 1, 1 - eps); };
  // The grid covers all three ways (z near 1 with b small next to a switches to a quadrature).
  for (double a : {2.0, 10.0, 50.0, 300.0, 3000.0, 3e4, 3e5})
    for (double b : {0.3, 1.0, 1.5, 4.0, 15.0, 30.0, 120.0, 400.0})
      for (double eps : {0.5, 3e-2, 3e-3, 3e-4, 1e-4}) {
        if (a + 1 - b <= 0) continue;
        CAPTURE(a);
        CAPTURE(b);
        CAPTURE(eps);
        const double z = 1 - eps, r = ref(a, b, eps);
        CHECK(log_hyp2f1_c_a1(a, b, z, eps) == doctest::Approx(r).epsilon(1e-11));
        const LogHyp2f1Grad g = log_hyp2f1_c_a1_grad(a, b, z, eps);
        CHECK(g.value == doctest::Approx(r).epsilon(1e-11));
        // Derivatives against central differences of the reference.
        const double h = 1e-6, he = eps * 1e-4;
        const double da = (ref(a * (1 + h), b, eps) - ref(a * (1 - h), b, eps)) / (2 * a * h);
        const double db = (ref(a, b * (1 + h), eps) - ref(a, b * (1 - h), eps)) / (2 * b * h);
        const double dz = -(ref(a, b, eps + he) - ref(a, b, eps - he)) / (2 * he);
        CHECK(g.da == doctest::Approx(da).epsilon(1e-5).scale(1));
        CHECK(g.db == doctest::Approx(db).epsilon(1e-5).scale(1));
        CHECK(g.dz == doctest::Approx(dz).epsilon(1e-5).scale(1));
      }
}

TEST_CASE("special: the quadratures keep the cost bounded where the series would need millions of terms") {
  // a = 3e6, b = 9.5, 1 - z = 1e-7: the series needs ~37 (a+1)/b ~ 1e7 terms. Value and
  // derivatives against differences of the function itself (no reference series is cheap here).
  const double a = 3e6, b = 9.5, eps = 1e-7, z = 1 - eps;
  const LogHyp2f1Grad g = log_hyp2f1_c_a1_grad(a, b, z, eps);
  REQUIRE(std::isfinite(g.value));
  CHECK(g.value == doctest::Approx(log_hyp2f1_c_a1(a, b, z, eps)).epsilon(1e-14));
  const double h = 1e-5;
  CHECK(g.da == doctest::Approx((log_hyp2f1_c_a1(a * (1 + h), b, z, eps) - log_hyp2f1_c_a1(a * (1 - h), b, z, eps)) / (2 * a * h)).epsilon(1e-5));
  CHECK(g.db == doctest::Approx((log_hyp2f1_c_a1(a, b * (1 + h), z, eps) - log_hyp2f1_c_a1(a, b * (1 - h), z, eps)) / (2 * b * h)).epsilon(1e-5));
  const double hz = eps * h;
  CHECK(g.dz == doctest::Approx((log_hyp2f1_c_a1(a, b, z + hz, eps - hz) - log_hyp2f1_c_a1(a, b, z - hz, eps + hz)) / (2 * hz)).epsilon(1e-5));
}

TEST_CASE("Pareto/NBD: the analytic gradient matches central differences, on both sides of alpha = beta") {
  const RfmData d = synthetic_rows(3000, 7);
  const ParetoRows rows = index_pareto_rows(d);
  for (ParetoNbdParams p : {ParetoNbdParams{0.8, 40, 0.6, 300}, ParetoNbdParams{0.5, 900, 1.3, 20}, ParetoNbdParams{3, 120, 40, 9000}}) {
    double g[4];
    const double ll = pareto_log_likelihood(p, rows, g);
    CHECK(ll == doctest::Approx(pareto_log_likelihood(p, d)).epsilon(1e-13));
    double th[4] = {std::log(p.r), std::log(p.alpha), std::log(p.s), std::log(p.beta)};
    for (int j = 0; j < 4; ++j) {
      auto at = [&](double step) {
        double t[4] = {th[0], th[1], th[2], th[3]};
        t[j] += step;
        return pareto_log_likelihood(ParetoNbdParams{std::exp(t[0]), std::exp(t[1]), std::exp(t[2]), std::exp(t[3])}, rows);
      };
      const double num = (at(1e-5) - at(-1e-5)) / 2e-5;
      CAPTURE(j);
      CHECK(g[j] == doctest::Approx(num).epsilon(1e-5).scale(1));
    }
  }
}

TEST_CASE("row chunks: the likelihoods do not depend on the number of threads") {
  // More rows than one chunk (65,536), so that 1 and 3 threads split the work differently.
  RfmData d = synthetic_rows(150000, 11);
  d.x.insert(d.x.end(), d.x.begin(), d.x.end());  // 300k rows (not merged: any order is fine)
  d.t_x.insert(d.t_x.end(), d.t_x.begin(), d.t_x.end());
  d.T.insert(d.T.end(), d.T.begin(), d.T.end());
  d.w.insert(d.w.end(), d.w.begin(), d.w.end());
  REQUIRE(d.size() > 2 * kRowChunk);
  const ParetoRows rows = index_pareto_rows(d);
  const ParetoNbdParams p{0.8, 40, 0.6, 300};
  const BgNbdParams b{0.3, 5, 0.8, 2.5};
  auto run = [&](int threads, double* gp, double* gb) {
    FitThreads t(threads);
    return std::make_pair(pareto_log_likelihood(p, rows, gp), bgnbd_log_likelihood(b, d, gb));
  };
  double gp1[4], gb1[4], gp3[4], gb3[4];
  const auto one = run(1, gp1, gb1), three = run(3, gp3, gb3);
  CHECK(one.first == three.first);  // bit for bit
  CHECK(one.second == three.second);
  for (int k = 0; k < 4; ++k) {
    CHECK(gp1[k] == gp3[k]);
    CHECK(gb1[k] == gb3[k]);
  }
}
