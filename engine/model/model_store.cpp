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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string utc_now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double number(const nlohmann::json& j, const char* key, const std::string& model) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number() || !(it->get<double>() > 0))
    throw std::runtime_error("models table: " + model + " params lack a positive '" + key + "'");
  return it->get<double>();
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

std::optional<LifetimeModels> latest_models(SQLite::Database& db, Days date) {
  if (!db.tableExists("models")) return std::nullopt;
  SQLite::Statement q(db,
                      "SELECT as_of, params FROM models WHERE name = ? AND as_of <= ?"
                      " ORDER BY as_of DESC, fitted_at DESC, rowid DESC LIMIT 1");
  LifetimeModels m;
  auto read = [&](const char* name) -> std::optional<std::pair<Days, nlohmann::json>> {
    q.reset();
    q.bind(1, name);
    q.bind(2, format_date(date));
    if (!q.executeStep()) return std::nullopt;
    auto day = parse_date(q.getColumn(0).getString());
    auto j = nlohmann::json::parse(q.getColumn(1).getString(), nullptr, false);
    if (!day || j.is_discarded() || !j.is_object())
      throw std::runtime_error(std::string("models table: malformed row for ") + name);
    return std::make_pair(*day, j);
  };
  bool any = false;
  if (auto r = read("bgnbd")) {
    const auto& j = r->second;
    m.bgnbd = BgNbdParams{number(j, "r", "bgnbd"), number(j, "alpha", "bgnbd"), number(j, "a", "bgnbd"), number(j, "b", "bgnbd")};
    m.as_of = r->first;
    m.unit = parse_unit(j.value("unit", "weeks")).value_or(TimeUnit::weeks);
    any = true;
  }
  if (auto r = read("pareto_nbd")) {
    const auto& j = r->second;
    m.pareto = ParetoNbdParams{number(j, "r", "pareto_nbd"), number(j, "alpha", "pareto_nbd"), number(j, "s", "pareto_nbd"),
                               number(j, "beta", "pareto_nbd")};
    if (!m.bgnbd) {
      m.as_of = r->first;
      m.unit = parse_unit(j.value("unit", "weeks")).value_or(TimeUnit::weeks);
    } else if (parse_unit(j.value("unit", "weeks")).value_or(TimeUnit::weeks) != m.unit) {
      m.pareto.reset();  // fitted in another unit than the BG/NBD model: not combinable
    }
    any = true;
  }
  if (auto r = read("gamma_gamma")) {
    const auto& j = r->second;
    m.gamma_gamma = GammaGammaParams{number(j, "p", "gamma_gamma"), number(j, "q", "gamma_gamma"), number(j, "gamma", "gamma_gamma")};
    m.gamma_gamma_as_of = r->first;
    any = true;
  }
  if (!any) return std::nullopt;
  return m;
}

double LifetimeModels::p_alive(double x, double t_x_days, double T_days) const {
  const double u = unit_days(unit);
  if (bgnbd) return bgnbd_p_alive(*bgnbd, x, t_x_days / u, T_days / u);
  if (pareto) return pareto_p_alive(*pareto, x, t_x_days / u, T_days / u);
  return kNaN;
}

double LifetimeModels::expected_purchases(double t_days, double x, double t_x_days, double T_days) const {
  const double u = unit_days(unit);
  if (bgnbd) return bgnbd_expected_purchases(*bgnbd, t_days / u, x, t_x_days / u, T_days / u);
  if (pareto) return pareto_expected_purchases(*pareto, t_days / u, x, t_x_days / u, T_days / u);
  return kNaN;
}

double LifetimeModels::expected_order_value(double x, double mean) const {
  if (!gamma_gamma) return kNaN;
  return gamma_gamma_expected_value(*gamma_gamma, x, mean);
}

}  // namespace crm::model
