// The fitted models in the store (table `models`: name, as_of, params JSON, log_likelihood,
// fitted_at) and the per-customer predictions that runs use: P(alive), expected purchases and
// expected order value, from the latest models fitted on facts up to a date.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "engine/lifetime/lifetime_models.hpp"
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

// LifetimeModels (the predictions in days) and pick_models are in engine/lifetime/lifetime_models.hpp.

// Reads the latest models with as_of <= date; nullopt when the store has no `models` table or
// no model fitted on or before `date`. Throws std::runtime_error for a malformed params row.
std::optional<LifetimeModels> latest_models(engine::SqlSession& db, Days date);

}  // namespace crm::model
