// `crm simulate --forecast`: N forward simulations over days after the store's last fact, each
// with future purchases drawn from the fitted lifetime models (engine/model/forecast.hpp), and
// the spread of their sends, costs and purchases (docs/lifetime.md).
#pragma once
#include <cstdint>
#include <string>

#include "cli/run_setup.hpp"

namespace crm::cli {

struct ForecastOptions {
  Days from = 0, to = 0;
  int runs = 20;
  uint64_t seed = 1;
  std::string format = "text";  // text or jsonl
};

// The last day with an order or an event in the store (engine::kNoDay: none).
Days last_fact_day(const engine::Facts& f);

// Runs the forecast on the loaded facts of `setup` and prints it; returns the exit code.
int simulate_forecast(RunSetup& setup, const ForecastOptions& options);

}  // namespace crm::cli
