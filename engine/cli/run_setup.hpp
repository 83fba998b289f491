// What `crm run` and `crm explain` share: opening the store, checking the script against its
// columns, choosing the time zone, loading the facts and compiling the program.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "cli/common.hpp"
#include "engine/store/facts.hpp"
#include "engine/eval/program.hpp"
#include "engine/store/store.hpp"
#include "engine/store/timezone.hpp"

namespace crm::cli {

struct RunSetup {
  std::unique_ptr<engine::Store> store;
  LoadedScript script;
  engine::TimeZone tz;
  std::unique_ptr<engine::Facts> facts;
  std::unique_ptr<engine::Program> program;
  double load_ms = 0;
};

// Opens the store and checks the script. On failure prints what went wrong and returns the
// exit code in `exit_code` (and nullopt). Facts are loaded only when `load_facts`. With
// read_only (dry runs, simulate, explain) the store is opened read-only: a read-only folder works.
std::optional<RunSetup> prepare_run(const std::string& cmd, const std::string& script_path, const std::string& db,
                                    int& exit_code, bool read_only = false);
// Loads the facts (printing data warnings to stderr, at most a few of each kind) and compiles.
bool load_and_compile(RunSetup& setup, int& exit_code);

}  // namespace crm::cli
