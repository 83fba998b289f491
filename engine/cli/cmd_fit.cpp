// crm fit --db STORE [--as-of D] [--holdout-from D] [--unit days|weeks] [--format text|json]
// [--report FILE] [--models LIST] [--no-save]: the lifetime models of engine/model/.
#include <fmt/core.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "engine/model/fit.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::cli {

int cmd_fit(const std::vector<std::string>& argv) {
  static const char* kHelp =
      "Usage: crm fit --db STORE [--as-of DATE] [--holdout-from DATE] [--unit days|weeks]\n"
      "               [--format text|json] [--report FILE] [--models LIST] [--no-save]\n\n"
      "Fits the customer-lifetime models on the store's paid orders by maximum likelihood:\n"
      "BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD (Schmittlein, Morrison & Colombo 1987) and\n"
      "the Gamma-Gamma model of spend per transaction. As in the papers, the orders of one customer\n"
      "on one day count as one purchase, frequency x counts repeat purchases, and t_x and T run\n"
      "from the first purchase. Prints the parameters with standard errors and log-likelihoods,\n"
      "and saves the models in the store's `models` table as of the calibration's last day.\n\n"
      "Options:\n"
      "  --db STORE           the store\n"
      "  --as-of DATE         the last day of orders used (default: the last paid order's day)\n"
      "  --holdout-from DATE  calibrate on the days before DATE; compare predicted and actual\n"
      "                       repeat purchases from DATE to --as-of\n"
      "  --unit days|weeks    the time unit of t_x, T and the rate parameters (default weeks)\n"
      "  --format text|json   text (default) or one JSON object per model per line\n"
      "  --report FILE        write an HTML page with the tracking charts\n"
      "  --models LIST        comma-separated subset of bgnbd,pareto_nbd,gamma_gamma (default all)\n"
      "  --no-save            do not write the models to the store\n"
      "  --help               show this help\n\n"
      "Exit codes: 0 ok, 1 data the models cannot be fitted on (or a failed fit), 2 usage error.\n";
  std::string error;
  auto args = parse_args(argv, {{"--no-save"}, {"--db", "--as-of", "--holdout-from", "--unit", "--format", "--report", "--models"}},
                         error);
  if (!args) return usage_error("fit", error);
  if (args->help) {
    fmt::print("{}", kHelp);
    return kExitOk;
  }
  if (!args->positional.empty()) return usage_error("fit", "unexpected argument '" + args->positional[0] + "'");
  auto db = args->option("--db");
  if (!db) return usage_error("fit", "--db STORE is required");
  model::FitOptions options;
  if (!date_option(*args, "--as-of", options.as_of, error) || !date_option(*args, "--holdout-from", options.holdout_from, error))
    return usage_error("fit", error);
  if (auto u = args->option("--unit")) {
    auto unit = model::parse_unit(*u);
    if (!unit) return usage_error("fit", "--unit expects days or weeks, not '" + *u + "'");
    options.unit = *unit;
  }
  std::string format = args->option("--format").value_or("text");
  if (format != "text" && format != "json") return usage_error("fit", "--format expects text or json, not '" + format + "'");
  if (auto list = args->option("--models")) {
    options.bgnbd = options.pareto = options.gamma_gamma = false;
    std::stringstream ss(*list);
    for (std::string m; std::getline(ss, m, ',');) {
      if (m == model::kBgNbd) options.bgnbd = true;
      else if (m == model::kParetoNbd) options.pareto = true;
      else if (m == model::kGammaGamma) options.gamma_gamma = true;
      else return usage_error("fit", "unknown model '" + m + "' in --models (known: bgnbd, pareto_nbd, gamma_gamma)");
    }
  }
  options.progress = [](const std::string& what) { fmt::print(stderr, "crm fit: {}...\n", what); };
  auto store = engine::open_store(*db);
  model::FitResult fit;
  try {
    fit = model::fit_models(store->sql(), options);
  } catch (const model::FitError& e) {
    fmt::print(stderr, "crm fit: error: {}; {}\n", e.what(), e.hint());
    return kExitError;
  }
  if (auto report = args->option("--report")) {
    std::ofstream out(*report, std::ios::binary | std::ios::trunc);
    out << model::fit_report_html(fit, shown_location(*db));
    if (!out.flush()) {
      fmt::print(stderr, "crm fit: error: cannot write the report '{}'\n", *report);
      return kExitError;
    }
  }
  if (!args->flag("--no-save")) model::save_models(store->sql(), fit);
  fmt::print("{}", format == "json" ? model::fit_json(fit) : model::fit_text(fit));
  return kExitOk;
}

}  // namespace crm::cli
