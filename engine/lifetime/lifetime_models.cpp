// Choosing the models of a run day from the `models` rows, and the day-unit predictions.
#include "engine/lifetime/lifetime_models.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace crm::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const nlohmann::json& j, const char* key, const std::string& model) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number() || !(it->get<double>() > 0))
    throw std::runtime_error("models table: " + model + " params lack a positive '" + key + "'");
  return it->get<double>();
}

TimeUnit unit_of(const nlohmann::json& j) { return j.value("unit", "weeks") == "days" ? TimeUnit::days : TimeUnit::weeks; }

}  // namespace

std::optional<LifetimeModels> pick_models(const std::vector<ModelRow>& rows, Days date, bool strictly_before) {
  // The latest as_of qualifying, then the latest fitted_at, then the last row.
  auto latest = [&](const char* name) -> const ModelRow* {
    const ModelRow* best = nullptr;
    for (const auto& r : rows) {
      if (r.name != name || r.as_of > date || (strictly_before && r.as_of == date)) continue;
      if (!best || r.as_of > best->as_of || (r.as_of == best->as_of && r.fitted_at >= best->fitted_at)) best = &r;
    }
    return best;
  };
  auto parse = [](const ModelRow& r) {
    auto j = nlohmann::json::parse(r.params, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error("models table: malformed row for " + r.name);
    return j;
  };
  LifetimeModels m;
  bool any = false;
  if (const ModelRow* r = latest("bgnbd")) {
    auto j = parse(*r);
    m.bgnbd = BgNbdParams{number(j, "r", "bgnbd"), number(j, "alpha", "bgnbd"), number(j, "a", "bgnbd"), number(j, "b", "bgnbd")};
    m.as_of = r->as_of;
    m.unit = unit_of(j);
    any = true;
  }
  if (const ModelRow* r = latest("pareto_nbd")) {
    auto j = parse(*r);
    m.pareto = ParetoNbdParams{number(j, "r", "pareto_nbd"), number(j, "alpha", "pareto_nbd"), number(j, "s", "pareto_nbd"),
                               number(j, "beta", "pareto_nbd")};
    if (!m.bgnbd) {
      m.as_of = r->as_of;
      m.unit = unit_of(j);
    } else if (unit_of(j) != m.unit) {
      m.pareto.reset();  // fitted in another unit than the BG/NBD model: not combinable
    }
    any = true;
  }
  if (const ModelRow* r = latest("gamma_gamma")) {
    auto j = parse(*r);
    m.gamma_gamma = GammaGammaParams{number(j, "p", "gamma_gamma"), number(j, "q", "gamma_gamma"), number(j, "gamma", "gamma_gamma")};
    m.gamma_gamma_as_of = r->as_of;
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
