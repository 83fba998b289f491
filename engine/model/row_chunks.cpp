// The number of threads a fit's likelihood sums use (row_chunks.hpp).
#include "engine/model/row_chunks.hpp"

#include <cstdlib>

namespace crm::model {

unsigned fit_threads() {
  if (const char* e = std::getenv("CRM_FIT_THREADS")) {
    long v = std::strtol(e, nullptr, 10);
    if (v >= 1) return static_cast<unsigned>(std::min(v, 64L));
  }
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

}  // namespace crm::model
