// Table `models` (written by `crm fit`, read by runs) and the day-unit predictions.
#include "engine/model/model_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <stdexcept>

namespace crm::model {
namespace {


std::string utc_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}


}  // namespace

void ensure_models_table(SQLite::Database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS models (name TEXT NOT NULL, as_of TEXT NOT NULL, params TEXT NOT NULL,"
      " log_likelihood REAL, fitted_at TEXT NOT NULL)");
  db.exec("CREATE INDEX IF NOT EXISTS models_by_name ON models (name, as_of)");
}

void insert_model(SQLite::Database& db, const std::string& name, Days as_of, const std::string& params_json,
                  double log_likelihood) {
  SQLite::Statement q(db, "INSERT INTO models (name, as_of, params, log_likelihood, fitted_at) VALUES (?, ?, ?, ?, ?)");
  q.bind(1, name);
  q.bind(2, format_date(as_of));
  q.bind(3, params_json);
  q.bind(4, log_likelihood);
  q.bind(5, utc_now());
  q.exec();
}

std::vector<ModelRow> read_model_rows(SQLite::Database& db) {
  std::vector<ModelRow> rows;
  if (!db.tableExists("models")) return rows;
  SQLite::Statement q(db, "SELECT name, as_of, params, fitted_at FROM models ORDER BY rowid");
  while (q.executeStep()) {
    auto day = parse_date(q.getColumn(1).getString());
    if (!day) throw std::runtime_error("models table: malformed as_of for " + q.getColumn(0).getString());
    rows.push_back({q.getColumn(0).getString(), *day, q.getColumn(2).getString(), q.getColumn(3).getString()});
  }
  return rows;
}

std::optional<LifetimeModels> latest_models(SQLite::Database& db, Days date) { return pick_models(read_model_rows(db), date); }

}  // namespace crm::model
