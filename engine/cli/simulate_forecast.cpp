// crm simulate --forecast (simulate_forecast.hpp): each run copies the facts, adds the orders
// drawn with seed (SEED, run), simulates the range like a backtest, and keeps its totals; the
// output is each total's mean and 5th-95th percentile over the runs.
#include "cli/simulate_forecast.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

#include "engine/model/forecast.hpp"
#include "engine/run/action.hpp"
#include "engine/run/run.hpp"
#include "engine/run/simulate.hpp"

namespace crm::cli {
namespace {

constexpr double kLowQuantile = 0.05, kHighQuantile = 0.95;

struct Spread {
  double mean = 0, low = 0, high = 0;
};

Spread spread_of(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  const double last = static_cast<double>(v.size() - 1);
  s.low = v[static_cast<size_t>(std::floor(kLowQuantile * last))];
  s.high = v[static_cast<size_t>(std::ceil(kHighQuantile * last))];
  return s;
}

// A run's seed from the user's seed and the run number (splitmix64, so nearby seeds differ).
uint64_t run_seed(uint64_t seed, int run) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(run + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

Days last_fact_day(const engine::Facts& f) {
  Days last = engine::kNoDay;
  if (!f.orders_by_day.empty()) last = f.order_day[f.orders_by_day.back()];
  if (!f.event_day.empty() && (last == engine::kNoDay || f.event_day.back() > last)) last = f.event_day.back();
  return last;
}

int simulate_forecast(RunSetup& setup, const ForecastOptions& o) {
  const engine::Facts& base = *setup.facts;
  const Days last = last_fact_day(base);
  if (last == engine::kNoDay) {
    fmt::print(stderr, "crm simulate: error: the store has no orders or events: there is nothing to forecast from\n");
    return kExitError;
  }
  if (o.to <= last) {
    fmt::print(stderr,
               "crm simulate: error: --forecast draws purchases after the store's last fact ({}), but --to is {}\n"
               "hint: give a --to after {}, or drop --forecast for a backtest\n",
               format_date(last), format_date(o.to), format_date(last));
    return kExitError;
  }
  std::optional<model::LifetimeModels> models;
  try {
    models = model::pick_models(base.models, last);
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "crm simulate: error: table models: {}\n", e.what());
    return kExitError;
  }
  if (!models || !models->bgnbd) {
    fmt::print(stderr,
               "crm simulate: error: --forecast needs a BG/NBD model fitted on or before {} (the last fact)\n"
               "hint: crm fit --db STORE\n",
               format_date(last));
    return kExitError;
  }

  const size_t rule_count = setup.script.program.rules.size();
  std::vector<double> purchases, revenue, passed, reached, cost;
  std::vector<std::vector<double>> rule_passed(rule_count);
  std::vector<std::string> rule_names(rule_count);
  for (int run = 0; run < o.runs; ++run) {
    engine::Facts facts = base;
    std::erase_if(facts.outbox, [&](const engine::Facts::OutboxEntry& e) { return e.run_date >= o.from; });
    facts.models_strictly_before = true;  // as a backtest: day D uses a model with as_of < D
    auto drawn = model::draw_future_orders(facts, *models, last, o.to, run_seed(o.seed, run));
    double drawn_in_range = 0, value_in_range = 0;
    for (const auto& d : drawn)
      if (d.day >= o.from) {
        ++drawn_in_range;
        value_in_range += d.total;
      }
    model::add_orders(facts, drawn);
    engine::Runner runner(setup.script, facts);
    runner.load_history_from_outbox();
    runner.set_render_subjects(false);
    engine::SimulateOptions options;
    options.from = o.from;
    options.to = o.to;
    engine::SimulationResult sim = engine::simulate(runner, setup.script.program, facts, options);
    purchases.push_back(drawn_in_range);
    revenue.push_back(value_in_range);
    passed.push_back(static_cast<double>(sim.total[0]));
    reached.push_back(static_cast<double>(sim.reached));
    cost.push_back(sim.cost);
    for (const auto& r : sim.rules)
      if (r.rule < rule_count) {
        rule_passed[r.rule].push_back(static_cast<double>(r.counts[0]));
        rule_names[r.rule] = r.name;
      }
  }

  const std::vector<std::pair<const char*, Spread>> totals = {
      {"drawn_purchases", spread_of(purchases)}, {"drawn_revenue", spread_of(revenue)},
      {"passed_actions", spread_of(passed)},     {"customers_reached", spread_of(reached)},
      {"message_cost", spread_of(cost)}};
  if (o.format == "jsonl") {
    std::string out;
    auto line = [&](const char* metric, const std::string* rule, const Spread& s) {
      out += fmt::format("{{\"metric\":\"{}\"", metric);
      if (rule) {
        out += ",\"rule\":";
        engine::append_json_string(out, *rule);
      }
      out += fmt::format(",\"runs\":{},\"mean\":{:.4f},\"p05\":{:.4f},\"p95\":{:.4f}}}\n", o.runs, s.mean, s.low, s.high);
    };
    for (const auto& [name, s] : totals) line(name, nullptr, s);
    for (size_t r = 0; r < rule_count; ++r)
      if (!rule_names[r].empty()) line("rule_passed_actions", &rule_names[r], spread_of(rule_passed[r]));
    fmt::print("{}", out);
    return kExitOk;
  }
  fmt::print("forecast: {} runs (seed {}) over {} .. {}; the store's facts end on {}: purchases after it are\n"
             "drawn from BG/NBD (as of {}){}. Interval: the 5th to 95th percentile of the runs.\n\n",
             o.runs, o.seed, format_date(o.from), format_date(o.to), format_date(last), format_date(models->as_of),
             models->gamma_gamma ? " with values from Gamma-Gamma" : " with each customer's mean order value");
  fmt::print("{:<28} {:>12} {:>12} {:>12}\n", "total", "mean", "5%", "95%");
  for (const auto& [name, s] : totals) fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>12.1f}\n", name, s.mean, s.low, s.high);
  fmt::print("\n{:<28} {:>12} {:>12} {:>12}\n", "rule (passed actions)", "mean", "5%", "95%");
  for (size_t r = 0; r < rule_count; ++r) {
    if (rule_names[r].empty()) continue;
    Spread s = spread_of(rule_passed[r]);
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>12.1f}\n", rule_names[r], s.mean, s.low, s.high);
  }
  return kExitOk;
}

}  // namespace crm::cli
