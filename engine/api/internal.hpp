// Internals shared by the C++ API (crm.cpp) and the C API over it (crm_c.cpp); not installed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crm/crm.hpp"

namespace crm::detail {

// Store::evaluate with the actions written as the JSON array crm_evaluate returns (each as
// Action::to_json) into `out`, which is cleared first: the C API reuses one buffer per thread.
void evaluate_json(const Store& store, const Script& script, int64_t customer, std::string_view date, std::string& out);

// JSON given to the API (a store's customers, an event) nested deeper than this is refused:
// nothing in either needs more than a few levels, and deeper documents would make the recursive
// walks over them (dump, destruction) overflow the host's stack.
constexpr int kMaxJsonDepth = 64;

// nlohmann::json::parse with kMaxJsonDepth enforced while parsing. Throws a nlohmann::json
// exception naming the limit.
nlohmann::json parse_json_limited(std::string_view text);

}  // namespace crm::detail
