// The rows of table `models` (written by `crm fit`) read through plain SQL, so SQLite and
// PostgreSQL stores give runs the same fitted lifetime models (load_models.cpp).
#pragma once
#include <vector>

#include "engine/lifetime/lifetime_models.hpp"
#include "engine/store/sql_session.hpp"

namespace crm::engine {

// Every row of table `models` in the order it was written (none without the table); rows whose
// as_of is not a date are skipped, as crm fit never writes one.
std::vector<model::ModelRow> read_model_rows(SqlSession& db);

// Whether table `models` exists and holds a row.
bool has_model_rows(SqlSession& db);

}  // namespace crm::engine
