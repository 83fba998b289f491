// Large arrays from fresh zeroed pages: ZeroArray<T> (grows, never shrinks, new entries zero)
// and FreshPageAllocator<T> (a std::vector's allocator for pools that reach megabytes). Both take
// a large block straight from the system, aligned to a huge page and advised MADV_HUGEPAGE: a
// first day at 1M customers writes across tens of MiB of them, and one fault per 2 MiB (where the
// kernel grants huge pages) costs far less than one per 4 KiB. Small blocks come from the heap.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace crm::engine {

// `bytes` of zeroed memory: fresh pages from kFreshPageBytes on, else the heap (calloc); which
// one follows from the size alone, so release_zeroed needs only the same size. Throws
// std::bad_alloc.
constexpr size_t kFreshPageBytes = size_t{1} << 20;
void* acquire_zeroed(size_t bytes);
void release_zeroed(void* p, size_t bytes) noexcept;
// Maps the pages of [p, p + bytes) (within a block acquire_zeroed mapped) writable now, without
// writing them: what a first write would do, safe while other threads write there. Does nothing
// where the kernel cannot (before Linux 5.14).
void populate_for_write(void* p, size_t bytes) noexcept;
// Zeroes what acquire_zeroed(bytes) gave: fresh pages are handed back to the system (they read
// as zero and are mapped again on the next write), so zeroing a large array costs what was
// written to it, not its size.
void rezero(void* p, size_t bytes) noexcept;

// A growable array of T whose default is all-zero bytes (trivially copyable): entries never
// written (a rule that fires for few customers) cost neither memory nor the fill of a
// std::vector's resize.
//
// Writes that go through at() mark their block of 2 MiB (a huge page of a mapped array), whose
// pages the first such write maps writable all at once; written_near() tells a reader whether a
// block was ever written. So no page is ever mapped for reading first (the kernel's shared zero
// page) and written later: that write copies it, and the copy flushes the TLBs of every core
// running the process, an interrupt each while other threads work. Marks are atomic bytes:
// threads may write entries of one block at once.
template <class T>
class ZeroArray {
  static_assert(std::is_trivially_copyable_v<T>);
  static constexpr size_t kBlock = (size_t{2} << 20) / sizeof(T) > 0 ? (size_t{2} << 20) / sizeof(T) : 1;

 public:
  ZeroArray() = default;
  ZeroArray(ZeroArray&& o) noexcept : p_(o.p_), n_(o.n_), marks_(std::move(o.marks_)) { o.p_ = nullptr, o.n_ = 0; }
  ZeroArray& operator=(ZeroArray&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_, n_ = o.n_, marks_ = std::move(o.marks_);
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
  // Entry i (below size()) to write: marks its block.
  T& at(size_t i) {
    std::atomic<uint8_t>& m = marks_[i / kBlock];
    if (m.load(std::memory_order_relaxed) == 0) {
      const size_t b = i / kBlock * kBlock;
      if (n_ * sizeof(T) >= kFreshPageBytes) populate_for_write(p_ + b, (n_ - b < kBlock ? n_ - b : kBlock) * sizeof(T));
      m.store(1, std::memory_order_relaxed);
    }
    return p_[i];
  }
  // Whether entry i (below size()) may be non-zero: something in its block was written by at().
  bool written_near(size_t i) const { return marks_[i / kBlock].load(std::memory_order_relaxed) != 0; }
  // Grows to n entries (never shrinks), the new ones zero.
  void grow(size_t n) {
    if (n <= n_) return;
    T* q = static_cast<T*>(acquire_zeroed(n * sizeof(T)));
    if (n_) std::memcpy(static_cast<void*>(q), p_, n_ * sizeof(T));
    const size_t blocks = (n + kBlock - 1) / kBlock, old_blocks = (n_ + kBlock - 1) / kBlock;
    auto marks = std::make_unique<std::atomic<uint8_t>[]>(blocks);
    for (size_t b = 0; b < blocks; ++b) marks[b].store(b < old_blocks ? marks_[b].load(std::memory_order_relaxed) : 0);
    release();
    p_ = q, n_ = n, marks_ = std::move(marks);
  }
  // Every entry back to zero.
  void zero() {
    if (!n_) return;
    rezero(p_, n_ * sizeof(T));
    for (size_t b = 0; b < (n_ + kBlock - 1) / kBlock; ++b) marks_[b].store(0, std::memory_order_relaxed);
  }

 private:
  void release() {
    if (p_) release_zeroed(p_, n_ * sizeof(T));
    p_ = nullptr, n_ = 0;
  }
  T* p_ = nullptr;
  size_t n_ = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> marks_;  // per block: 1 once at() wrote in it
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
