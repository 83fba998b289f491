// crm-fit-bench STORE [days|weeks]: times the lifetime models on one store (see fit_bench.sh):
// loading the paid orders, each model's fit, and P(alive) / expected purchases for every customer.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "engine/model/fit.hpp"
#include "engine/model/model_store.hpp"
#include "engine/store/sqlite_session.hpp"

using namespace crm::model;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: crm-fit-bench STORE [days|weeks] [MODELS]\n");
    return 2;
  }
  SQLite::Database raw_db(argv[1], SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);  // as crm opens it
  crm::engine::SqliteSession db(raw_db.getHandle());
  FitOptions o;
  if (argc > 2) o.unit = parse_unit(argv[2]).value_or(TimeUnit::weeks);
  if (argc > 3) {
    std::string m = argv[3];
    o.bgnbd = m.find("bgnbd") != std::string::npos;
    o.pareto = m.find("pareto_nbd") != std::string::npos;
    o.gamma_gamma = m.find("gamma_gamma") != std::string::npos;
  }
  auto t0 = Clock::now();
  auto c0 = std::clock();
  FitResult r;
  try {
    r = fit_models(db, o);
  } catch (const FitError& e) {
    fmt::print(stderr, "crm-fit-bench: {}\n", e.what());
    return 1;
  }
  double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  double total = since(t0);
  fmt::print("store {}: {} customers, {} repeat buyers, {} purchase days, unit {}\n", argv[1], r.customers, r.repeat_buyers,
             r.purchase_days, unit_name(r.unit));
  fmt::print("  load paid orders + summary: {:.3f} s\n", r.load_seconds);
  for (const auto& f : r.fits)
    fmt::print("  fit {:<12} {:.3f} s  ({} iterations, {} customers, LL {:.2f})\n", f.name, f.seconds, f.iterations, f.customers,
               f.log_likelihood);
  fmt::print("  fit_models total (load, fits, tracking): {:.3f} s wall, {:.3f} s CPU\n", total, cpu);

  // P(alive) and 30-day expected purchases for every customer, as a day's run would compute them.
  PurchaseDays p = load_purchase_days(db);
  RfmSummary s = summarize(p, r.calibration_end, TimeUnit::days);
  LifetimeModels m;
  m.unit = r.unit;
  m.bgnbd = r.bgnbd;
  m.gamma_gamma = r.gamma_gamma;
  auto t1 = Clock::now();
  double sum = 0;
  for (const auto& c : s.customers) sum += m.p_alive(c.x, c.t_x, c.T);
  double pa = since(t1);
  auto t2 = Clock::now();
  double sum2 = 0;
  for (const auto& c : s.customers) sum2 += m.expected_purchases(30, c.x, c.t_x, c.T);
  double ep = since(t2);
  fmt::print("  p_alive for {} customers: {:.1f} ms (mean {:.4f})\n", s.customers.size(), pa * 1e3, sum / s.customers.size());
  fmt::print("  expected_purchases(30 days) for {} customers: {:.1f} ms (mean {:.4f})\n", s.customers.size(), ep * 1e3,
             sum2 / s.customers.size());
  return 0;
}
