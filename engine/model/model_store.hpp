// The fitted models in the store (table `models`: name, as_of, params JSON, log_likelihood,
// fitted_at) and the per-customer predictions that runs use: P(alive), expected purchases and
// expected order value, from the latest models fitted on facts up to a date.
#pragma once
#include <optional>
#include <string>

#include "engine/model/bgnbd.hpp"
#include "engine/model/gamma_gamma.hpp"
#include "engine/model/pareto_nbd.hpp"
#include "engine/model/rfm_summary.hpp"

namespace crm::engine {
class SqlSession;
}

namespace crm::model {

// CREATE TABLE IF NOT EXISTS models (...): `crm fit` calls it before saving.
void ensure_models_table(engine::SqlSession& db);

// Appends one row; params is a JSON object text.
void insert_model(engine::SqlSession& db, const std::string& name, Days as_of, const std::string& params_json,
                  double log_likelihood);

// The models a run on `date` may use: for each model name, the one with the latest as_of on or
// before `date` (the last fitted when several share it), so a run never sees a model fitted on
// later facts. Times in the arguments below are in DAYS; the models' own unit is converted.
struct LifetimeModels {
  TimeUnit unit = TimeUnit::weeks;      // of the purchase model's parameters
  Days as_of = 0;                       // of the purchase model
  std::optional<BgNbdParams> bgnbd;
  std::optional<ParetoNbdParams> pareto;
  std::optional<GammaGammaParams> gamma_gamma;
  std::optional<Days> gamma_gamma_as_of;

  bool has_purchase_model() const { return bgnbd || pareto; }
  // x = repeat purchase days, t_x = days from the first to the last purchase, T = days from the
  // first purchase to the evaluation day. BG/NBD when fitted, else Pareto/NBD; NaN without either.
  double p_alive(double x, double t_x_days, double T_days) const;
  // Expected purchase days in the next t days.
  double expected_purchases(double t_days, double x, double t_x_days, double T_days) const;
  // Expected value of one future order given x repeat purchases of mean value `mean`
  // (Gamma-Gamma); NaN without a spend model.
  double expected_order_value(double x, double mean) const;
};

// Reads the latest models with as_of <= date; nullopt when the store has no `models` table or
// no model fitted on or before `date`. Throws std::runtime_error for a malformed params row.
std::optional<LifetimeModels> latest_models(engine::SqlSession& db, Days date);

}  // namespace crm::model
