// Fresh zeroed pages for large arrays (zero_array.hpp): mapped on a huge-page boundary, advised
// MADV_HUGEPAGE (a no-op where the kernel's transparent huge pages are off), the slack unmapped.
#include "engine/store/zero_array.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace crm::engine {
namespace {
constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

void* acquire_zeroed(size_t bytes) {
  if (bytes >= kFreshPageBytes) {
    const size_t len = bytes + kHugePage;
    void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    auto* raw = static_cast<char*>(m);
    char* at = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1));
    const size_t used = (bytes + kPage - 1) & ~(kPage - 1);
    if (at != raw) munmap(raw, static_cast<size_t>(at - raw));
    if (raw + len > at + used) munmap(at + used, static_cast<size_t>(raw + len - (at + used)));
    madvise(at, used, MADV_HUGEPAGE);
    return at;
  }
  void* p = std::calloc(bytes ? bytes : 1, 1);
  if (!p) throw std::bad_alloc();
  return p;
}

void release_zeroed(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes >= kFreshPageBytes) munmap(p, bytes);
  else std::free(p);
}

}  // namespace crm::engine
