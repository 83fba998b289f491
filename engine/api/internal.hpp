// Internals shared by the pieces of the C++ API (script.cpp, store.cpp, json_store.cpp) and the
// C API over it (crm_c.cpp); not installed.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "crm/crm.hpp"
#include "engine/eval/compiled_script.hpp"
#include "lang/checker.hpp"

namespace SQLite {
class Database;
}

namespace crm {

// A compiled script (checked program, rule graph, program) and the extra customers columns it
// was checked against (from CompileOptions::store).
struct Script::Impl : engine::CompiledScript {
  std::vector<lang::CheckOptions::Extra> extras;
};

// Builds Scripts (the Script constructor is private).
struct ScriptBuilder {
  static Script make(std::shared_ptr<const Script::Impl> impl) { return Script(std::move(impl)); }
};

}  // namespace crm

namespace crm::detail {

// Store::evaluate with the actions written as the JSON array crm_evaluate returns (each as
// Action::to_json) into `out`, which is cleared first: the C API reuses one buffer per thread.
void evaluate_json(const Store& store, const Script& script, int64_t customer, std::string_view date, std::string& out);

// The extra customers columns of a store's facts (the checker's attributes; store.cpp).
std::vector<lang::CheckOptions::Extra> store_extras(const Store& store);

// Fills an empty crm store from a JSON document (Store::from_json; json_store.cpp); `timezone`
// gets its "timezone" key. Throws Error naming the table and row of a bad value.
void fill_from_json(SQLite::Database& db, const nlohmann::json& doc, std::optional<std::string>& timezone);

// JSON given to the API (a store's customers, an event) nested deeper than this is refused:
// nothing in either needs more than a few levels, and deeper documents would make the recursive
// walks over them (dump, destruction) overflow the host's stack.
constexpr int kMaxJsonDepth = 64;

// nlohmann::json::parse with kMaxJsonDepth enforced while parsing. Throws a nlohmann::json
// exception naming the limit.
nlohmann::json parse_json_limited(std::string_view text);

}  // namespace crm::detail
