// The fitted lifetime models as runs use them: the rows of the store's `models` table (written by
// `crm fit`) and the choice, for a run day, of the latest model of each kind fitted before it,
// with the predictions in days. Read by the store loader (Facts::models) and by engine/model/.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/lifetime/lifetime_math.hpp"
#include "lang/date.hpp"

namespace crm::model {

// One row of table `models`: name (bgnbd, pareto_nbd, gamma_gamma), as_of (the calibration end),
// params (JSON object text), in the order of the table (rowid).
struct ModelRow {
  std::string name;
  Days as_of = 0;
  std::string params;
  std::string fitted_at;
};

// The models a run on a day may use. Times in the arguments below are in DAYS; the models' own
// unit is converted.
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

// For each name, the row with the latest as_of on or before `date` (strictly before it when
// `strictly_before`), the last fitted when several share it; nullopt when no row qualifies.
// Throws std::runtime_error for a malformed params row.
std::optional<LifetimeModels> pick_models(const std::vector<ModelRow>& rows, Days date, bool strictly_before = false);

}  // namespace crm::model
