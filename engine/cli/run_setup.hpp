// What `crm run` and `crm explain` share: opening the store, compiling the script against its
// columns, choosing the time zone and loading the facts.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "cli/common.hpp"
#include "engine/store/facts.hpp"
#include "engine/store/store.hpp"
#include "engine/store/timezone.hpp"

namespace crm::cli {

struct RunSetup {
  std::unique_ptr<engine::Store> store;
  LoadedScript script;  // compiled
  engine::TimeZone tz;
  std::unique_ptr<engine::Facts> facts;
  double load_ms = 0;
};

// Opens the store and compiles the script. On failure prints what went wrong and returns the
// exit code in `exit_code` (and nullopt). With read_only (dry runs, simulate, explain) the store
// is opened read-only: a read-only folder works.
std::optional<RunSetup> prepare_run(const std::string& cmd, const std::string& script_path, const std::string& db,
                                    int& exit_code, bool read_only = false);
// Loads the facts, printing data warnings to stderr (at most a few).
void load_facts(RunSetup& setup);

}  // namespace crm::cli
