// Shared set-up of run and explain: store, compiled script, time zone, facts.
#include "cli/run_setup.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "cli/args.hpp"

namespace crm::cli {

std::optional<RunSetup> prepare_run(const std::string& cmd, const std::string& script_path, const std::string& db,
                                    int& exit_code, bool read_only) {
  RunSetup s;
  try {
    s.store = read_only ? engine::open_store_read_only(db) : engine::open_store(db);
  } catch (const engine::StoreError& e) {
    fmt::print(stderr, "crm {}: error: {}\n", cmd, e.what());
    exit_code = kExitError;
    return std::nullopt;
  }
  s.script = load_script({script_path}, db, s.store->extra_attributes());
  print_diagnostics(s.script.diags);
  if (!s.script.ok()) {
    fmt::print(stderr, "crm {}: the script has errors; nothing was run\n", cmd);
    exit_code = kExitError;
    return std::nullopt;
  }
  std::string tz_name = engine::run_timezone_name(s.script.program.timezone, s.store->meta_timezone());
  std::string error;
  auto tz = engine::TimeZone::load(tz_name, error);
  if (!tz) {
    fmt::print(stderr, "crm {}: error: {}\n", cmd, error);
    exit_code = kExitError;
    return std::nullopt;
  }
  s.tz = *tz;
  return s;
}

void load_facts(RunSetup& s) {
  auto t0 = std::chrono::steady_clock::now();
  engine::LoadResult loaded = s.store->load_facts(s.tz);
  s.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  constexpr size_t kMaxWarnings = 10;  // the rest are counted, so odd data never floods a terminal
  for (size_t i = 0; i < loaded.warnings.size() && i < kMaxWarnings; ++i)
    fmt::print(stderr, "warning: {}\n", loaded.warnings[i]);
  if (loaded.warnings.size() > kMaxWarnings)
    fmt::print(stderr, "warning: ... and {} more data warnings\n", loaded.warnings.size() - kMaxWarnings);
  s.facts = std::make_unique<engine::Facts>(std::move(loaded.facts));
}

}  // namespace crm::cli
