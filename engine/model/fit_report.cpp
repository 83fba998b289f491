// `crm fit --report`: one self-contained HTML page in the look of `crm simulate --report` (same
// style sheet, inline SVG, no script): parameters, the holdout table, and the cumulative and
// weekly tracking charts of the cohort's repeat purchases (the papers' figures 1 and 2).
#include <fmt/format.h>

#include <cmath>

#include "engine/model/fit.hpp"
#include "engine/report/report_html.hpp"
#include "engine/report/svg_chart.hpp"

namespace crm::model {
namespace {

using engine::html_escape;

constexpr const char* kActual = "#222222";
constexpr const char* kBgColor = "#4e79a7";
constexpr const char* kPnColor = "#f28e2b";

std::string esc(const std::string& s) { return html_escape(s); }

std::string params_table(const FitResult& fit) {
  std::string out = "<table><tr><th>model</th><th>parameter</th><th class=\"n\">estimate</th><th class=\"n\">standard error</th>"
                    "<th class=\"n\">log-likelihood</th></tr>\n";
  for (const auto& m : fit.fits) {
    for (size_t i = 0; i < m.names.size(); ++i) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{:.5g}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                         i == 0 ? esc(m.name) : "", esc(m.names[i]), m.params[i],
                         std::isfinite(m.se[i]) ? fmt::format("{:.3g}", m.se[i]) : "n/a",
                         i == 0 ? fmt::format("{:.2f}", m.log_likelihood) : "");
    }
  }
  return out + "</table>\n";
}

std::string holdout_table(const FitResult& fit) {
  if (fit.holdout.empty()) return "";
  std::string out = fmt::format("<h2>Holdout {} to {}</h2>\n<p class=\"note\">Mean repeat purchases per customer in the holdout, "
                                "by repeat purchases in calibration: actual and expected.</p>\n",
                                format_date(fit.calibration_end + 1), format_date(*fit.holdout_end));
  out += "<table><tr><th class=\"n\">x</th><th class=\"n\">customers</th><th class=\"n\">actual</th>";
  if (fit.bgnbd) out += "<th class=\"n\">BG/NBD</th>";
  if (fit.pareto) out += "<th class=\"n\">Pareto/NBD</th>";
  out += "</tr>\n";
  for (const auto& h : fit.holdout) {
    double n = std::max<double>(1, static_cast<double>(h.customers));
    out += fmt::format("<tr><td class=\"n\">{}{}</td><td class=\"n\">{}</td><td class=\"n\">{:.3f}</td>", h.x,
                       h.x == kTopGroup ? "+" : "", h.customers, h.actual / n);
    if (fit.bgnbd) out += fmt::format("<td class=\"n\">{:.3f}</td>", h.bgnbd / n);
    if (fit.pareto) out += fmt::format("<td class=\"n\">{:.3f}</td>", h.pareto / n);
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string tracking_charts(const FitResult& fit) {
  std::vector<std::string> cats;
  engine::ChartSeries actual{"actual", kActual, {}}, bg{"BG/NBD", kBgColor, {}}, pn{"Pareto/NBD", kPnColor, {}};
  engine::ChartSeries cum_actual = actual, cum_bg = bg, cum_pn = pn;
  double ca = 0, cb = 0, cp = 0;
  for (const auto& w : fit.tracking) {
    cats.push_back(format_date(w.start));
    actual.values.push_back(w.actual);
    bg.values.push_back(w.bgnbd);
    pn.values.push_back(w.pareto);
    cum_actual.values.push_back(ca += w.actual);
    cum_bg.values.push_back(cb += w.bgnbd);
    cum_pn.values.push_back(cp += w.pareto);
  }
  std::vector<engine::ChartSeries> weekly{actual}, cumulative{cum_actual};
  if (fit.bgnbd) weekly.push_back(bg), cumulative.push_back(cum_bg);
  if (fit.pareto) weekly.push_back(pn), cumulative.push_back(cum_pn);
  std::string note = fit.holdout_end ? fmt::format("Calibration ends {}; the weeks after it are the holdout.", format_date(fit.calibration_end))
                                     : std::string("No holdout: the curves cover the calibration period.");
  std::string out = "<h2>Tracking repeat purchases</h2>\n<p class=\"note\">" + esc(note) +
                    " Weeks start on the cohort's first purchase day; expected values sum each customer's E[X(t)] "
                    "from their first purchase.</p>\n<h3>Cumulative repeat purchases</h3>\n";
  engine::ChartOptions o;
  o.title = "Cumulative repeat purchases, actual and expected";
  o.unit = "purchases";
  out += engine::svg_lines(cats, cumulative, o);
  out += "<h3>Weekly repeat purchases</h3>\n";
  o.title = "Weekly repeat purchases, actual and expected";
  out += engine::svg_lines(cats, weekly, o);
  return out;
}

}  // namespace

std::string fit_report_html(const FitResult& fit, const std::string& store_name) {
  std::string title = "Customer-lifetime models: " + store_name;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + esc(title) + "</title>\n<style>" + engine::report_css() + "</style>\n</head>\n<body>\n";
  out += "<h1>" + esc(title) + "</h1>\n";
  out += fmt::format("<p class=\"meta\">Purchases {} to {}{}; {} customers, {} with repeat purchases; time unit {}.</p>\n",
                     format_date(fit.first_day), format_date(fit.calibration_end), fit.holdout_end ? " (calibration)" : "",
                     fit.customers, fit.repeat_buyers, unit_name(fit.unit));
  out += "<h2>Parameters</h2>\n" + params_table(fit) + holdout_table(fit) + tracking_charts(fit);
  out += "<p class=\"note\">Generated by crm fit.</p>\n</body>\n</html>\n";
  return out;
}

}  // namespace crm::model
