// Fresh zeroed pages for large arrays (zero_array.hpp): mapped on a huge-page boundary, advised
// MADV_HUGEPAGE (a no-op where the kernel's transparent huge pages are off), the slack unmapped.
#include "engine/store/zero_array.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace crm::engine {
namespace {
constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t{2} << 20;
// A mapping's length: whole huge pages, so its last block is one too (a 4 KiB-paged tail of
// 1.7 MiB cost 400-odd faults per array on a 1M first day).
size_t mapped_length(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }
}  // namespace

void* acquire_zeroed(size_t bytes) {
  if (bytes >= kFreshPageBytes) {
    const size_t used = mapped_length(bytes), len = used + kHugePage;  // room to align the start
    void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    auto* raw = static_cast<char*>(m);
    char* at = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1));
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
  if (bytes >= kFreshPageBytes) munmap(p, mapped_length(bytes));
  else std::free(p);
}

void populate_for_write(void* p, size_t bytes) noexcept {
  const auto at = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = at & ~(kPage - 1), end = (at + bytes + kPage - 1) & ~(kPage - 1);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);  // EINVAL before 5.14: faults as usual
}

void rezero(void* p, size_t bytes) noexcept {
  if (!p || bytes == 0) return;
  if (bytes >= kFreshPageBytes && madvise(p, mapped_length(bytes), MADV_DONTNEED) == 0) return;
  std::memset(p, 0, bytes);
}

}  // namespace crm::engine
