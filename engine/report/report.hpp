// The campaign report of `crm simulate`: what a simulation would send and the shop's KPIs, as
// aligned text tables (report_text.cpp) or one self-contained HTML file (report_html.hpp).
#pragma once
#include <cstdint>
#include <string>

#include "engine/report/kpis.hpp"
#include "engine/report/outcomes.hpp"
#include "engine/run/simulate.hpp"

namespace crm::engine {

// What a report shows; the pointers must outlive the call. `kpis` may be null (left out).
struct ReportInput {
  std::string script;  // the script's path as given, for titles and `crm explain` hints
  std::string store;   // the store's path as given
  const SimulationResult* sim = nullptr;
  const Kpis* kpis = nullptr;
  const OutcomesResult* outcomes = nullptr;  // treated vs held out (may be null: left out)
};

// The simulation's tables: per rule (counts by status, reach, cost, sample customers), per
// channel, message cost, busiest days, and the daily volume.
std::string simulation_text(const ReportInput& in);
// The KPI tables: the period, cohorts, cohort retention, subscription curve, cancel reasons.
std::string kpis_text(const Kpis& k);

// Shared number formatting: "1,234,567", "12,345.50" (two decimals only when not whole),
// "25.0%" ("-" when the denominator is 0).
std::string format_count(int64_t n);
std::string format_money(double v);
std::string format_pct(int64_t num, int64_t den);

}  // namespace crm::engine
