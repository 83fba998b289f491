// The outputs of `crm fit`: the saved rows of table `models`, the text summary and the JSON
// objects (one per model, with the papers' parameter names and standard errors).
#include "engine/store/sql_session.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "engine/model/fit.hpp"
#include "engine/model/model_store.hpp"

namespace crm::model {
namespace {

using json = nlohmann::ordered_json;

const char* title(const std::string& name) {
  if (name == kBgNbd) return "BG/NBD (Fader, Hardie & Lee 2005)";
  if (name == kParetoNbd) return "Pareto/NBD (Schmittlein, Morrison & Colombo 1987)";
  return "Gamma-Gamma spend per transaction (Fader, Hardie & Lee 2005)";
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// The stored params: the parameters, the unit of the purchase models, and what was fitted on.
json params_json(const FitResult& fit, const ModelFit& m) {
  json j;
  for (size_t i = 0; i < m.names.size(); ++i) j[m.names[i]] = m.params[i];
  if (m.name != kGammaGamma) j["unit"] = unit_name(fit.unit);
  j["customers"] = m.customers;
  return j;
}

double holdout_total(const FitResult& fit, bool bgnbd) {
  double s = 0;
  for (const auto& h : fit.holdout) s += bgnbd ? h.bgnbd : h.pareto;
  return s;
}

}  // namespace

void save_models(engine::SqlSession& db, const FitResult& fit) {
  db.transaction([&] {
    ensure_models_table(db);
    for (const auto& m : fit.fits) insert_model(db, m.name, fit.calibration_end, params_json(fit, m).dump(), m.log_likelihood);
  });
}

std::string fit_text(const FitResult& fit) {
  std::string out;
  out += fmt::format("Purchases {} to {}{}, time unit: {}\n", format_date(fit.first_day), format_date(fit.calibration_end),
                     fit.holdout_end ? " (calibration)" : "", unit_name(fit.unit));
  out += fmt::format("  {} customers, {} with repeat purchases, {} purchase days (same-day orders count once)\n",
                     fit.customers, fit.repeat_buyers, fit.purchase_days);
  if (fit.holdout_end)
    out += fmt::format("Holdout {} to {} ({:.1f} {})\n", format_date(fit.calibration_end + 1), format_date(*fit.holdout_end),
                       (*fit.holdout_end - fit.calibration_end) / unit_days(fit.unit), unit_name(fit.unit));
  for (const auto& m : fit.fits) {
    out += fmt::format("\n{}\n  log-likelihood {:.2f} on {} {}\n", title(m.name), m.log_likelihood, m.customers,
                       m.name == kGammaGamma ? "repeat buyers" : "customers");
    for (size_t i = 0; i < m.names.size(); ++i)
      out += std::isfinite(m.se[i]) ? fmt::format("  {:<6} {:>11.5g}   (se {:.3g})\n", m.names[i], m.params[i], m.se[i])
                                    : fmt::format("  {:<6} {:>11.5g}   (se n/a: the Hessian is not positive definite)\n",
                                                  m.names[i], m.params[i]);
  }
  if (fit.spend_left_out > 0)
    out += fmt::format("  ({} repeat buyers with a zero or negative mean spend left out)\n", fit.spend_left_out);
  if (!fit.holdout.empty()) {
    bool bg = fit.bgnbd.has_value(), pn = fit.pareto.has_value();
    out += "\nHoldout repeat purchases by repeat purchases in calibration (mean per customer)\n";
    out += fmt::format("  {:>4} {:>10} {:>9}{}{}\n", "x", "customers", "actual", bg ? "    BG/NBD" : "", pn ? " Pareto/NBD" : "");
    double cust = 0, act = 0;
    for (const auto& h : fit.holdout) {
      double n = std::max<double>(1, static_cast<double>(h.customers));
      out += fmt::format("  {:>4} {:>10} {:>9.3f}", h.x == kTopGroup ? std::to_string(kTopGroup) + "+" : std::to_string(h.x),
                         h.customers, h.actual / n);
      if (bg) out += fmt::format(" {:>9.3f}", h.bgnbd / n);
      if (pn) out += fmt::format(" {:>10.3f}", h.pareto / n);
      out += "\n";
      cust += static_cast<double>(h.customers);
      act += h.actual;
    }
    out += fmt::format("  total: {:.0f} actual", act);
    if (bg) out += fmt::format(", BG/NBD {:.1f} ({:+.1f}%)", holdout_total(fit, true), 100 * (holdout_total(fit, true) / act - 1));
    if (pn)
      out += fmt::format(", Pareto/NBD {:.1f} ({:+.1f}%)", holdout_total(fit, false), 100 * (holdout_total(fit, false) / act - 1));
    out += fmt::format(" repeat purchases by {:.0f} customers\n", cust);
  }
  return out;
}

std::string fit_json(const FitResult& fit) {
  std::string out;
  for (const auto& m : fit.fits) {
    json j;
    j["model"] = m.name;
    for (size_t i = 0; i < m.names.size(); ++i) j[m.names[i]] = m.params[i];
    json se = json::object();
    for (size_t i = 0; i < m.names.size(); ++i) se[m.names[i]] = number_or_null(m.se[i]);
    j["se"] = se;
    j["log_likelihood"] = m.log_likelihood;
    j["customers"] = m.customers;
    if (m.name != kGammaGamma) j["unit"] = unit_name(fit.unit);
    j["as_of"] = format_date(fit.calibration_end);
    if (!fit.holdout.empty() && m.name != kGammaGamma) {
      bool bg = m.name == kBgNbd;
      json groups = json::array();
      double actual = 0;
      for (const auto& h : fit.holdout) {
        groups.push_back({{"x", h.x}, {"customers", h.customers}, {"actual", h.actual}, {"expected", bg ? h.bgnbd : h.pareto}});
        actual += h.actual;
      }
      j["holdout"] = {{"from", format_date(fit.calibration_end + 1)},
                      {"to", format_date(*fit.holdout_end)},
                      {"actual", actual},
                      {"expected", holdout_total(fit, bg)},
                      {"by_x", groups}};
    }
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace crm::model
