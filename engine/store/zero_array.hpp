// Large arrays from fresh zeroed pages: ZeroArray<T> (grows, never shrinks, new entries zero)
// and FreshPageAllocator<T> (a std::vector's allocator for pools that reach megabytes). Both take
// a large block straight from the system, aligned to a huge page and advised MADV_HUGEPAGE: a
// first day at 1M customers writes across tens of MiB of them, and one fault per 2 MiB (where the
// kernel grants huge pages) costs far less than one per 4 KiB. Small blocks come from the heap.
#pragma once
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

namespace crm::engine {

// `bytes` of zeroed memory: fresh pages from kFreshPageBytes on, else the heap (calloc); which
// one follows from the size alone, so release_zeroed needs only the same size. Throws
// std::bad_alloc.
constexpr size_t kFreshPageBytes = size_t{1} << 20;
void* acquire_zeroed(size_t bytes);
void release_zeroed(void* p, size_t bytes) noexcept;

// A growable array of T whose default is all-zero bytes (trivially copyable): entries never
// written (a rule that fires for few customers) cost neither memory nor the fill of a
// std::vector's resize.
template <class T>
class ZeroArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ZeroArray() = default;
  ZeroArray(ZeroArray&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  ZeroArray& operator=(ZeroArray&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_, n_ = o.n_;
      o.p_ = nullptr, o.n_ = 0;
    }
    return *this;
  }
  ZeroArray(const ZeroArray&) = delete;
  ZeroArray& operator=(const ZeroArray&) = delete;
  ~ZeroArray() { release(); }

  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  // Grows to n entries (never shrinks), the new ones zero.
  void grow(size_t n) {
    if (n <= n_) return;
    T* q = static_cast<T*>(acquire_zeroed(n * sizeof(T)));
    if (n_) std::memcpy(static_cast<void*>(q), p_, n_ * sizeof(T));
    release();
    p_ = q, n_ = n;
  }
  // Every entry back to zero.
  void zero() {
    if (n_) std::memset(static_cast<void*>(p_), 0, n_ * sizeof(T));
  }

 private:
  void release() {
    if (p_) release_zeroed(p_, n_ * sizeof(T));
    p_ = nullptr, n_ = 0;
  }
  T* p_ = nullptr;
  size_t n_ = 0;
};

// A std::vector allocator with the same large blocks (their pages zeroed, though a vector does
// not count on it).
template <class T>
struct FreshPageAllocator {
  using value_type = T;
  FreshPageAllocator() = default;
  template <class U>
  FreshPageAllocator(const FreshPageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(acquire_zeroed(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { release_zeroed(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const FreshPageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace crm::engine
