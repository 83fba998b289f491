// Internals shared by the C++ API (crm.cpp) and the C API over it (crm_c.cpp); not installed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "crm/crm.hpp"

namespace crm::detail {

// Store::evaluate with the actions written as the JSON array crm_evaluate returns (each as
// Action::to_json) into `out`, which is cleared first: the C API reuses one buffer per thread.
void evaluate_json(const Store& store, const Script& script, int64_t customer, std::string_view date, std::string& out);

}  // namespace crm::detail
