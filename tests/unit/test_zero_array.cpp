// Fresh zeroed pages (engine/store/zero_array.hpp): ZeroArray and the vector allocator, on both
// sides of the size where blocks come from mmap rather than the heap.
#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "engine/store/zero_array.hpp"

using namespace crm::engine;

TEST_CASE("ZeroArray grows zeroed, keeps its entries, moves and zeroes (heap and mapped sizes)") {
  for (size_t first : {size_t{10}, size_t{1} << 19}) {  // 40 bytes (calloc); 2 MiB (mmap)
    ZeroArray<uint32_t> a;
    CHECK(a.size() == 0);
    a.grow(first);
    REQUIRE(a.size() == first);
    for (size_t i = 0; i < first; i += first / 10 + 1) CHECK(a[i] == 0);
    a[0] = 7, a[first - 1] = 9;
    a.grow(first / 2);  // never shrinks
    CHECK(a.size() == first);
    a.grow(first * 3);
    REQUIRE(a.size() == first * 3);
    CHECK(a[0] == 7);
    CHECK(a[first - 1] == 9);
    CHECK(a[first] == 0);
    CHECK(a[first * 3 - 1] == 0);
    ZeroArray<uint32_t> b(std::move(a));
    CHECK(a.size() == 0);
    CHECK(b[first - 1] == 9);
    a = std::move(b);
    CHECK(a[0] == 7);
    a.zero();
    CHECK(a[0] == 0);
    CHECK(a[first - 1] == 0);
  }
}

TEST_CASE("ZeroArray marks the 2 MiB blocks written through at(), across growth and zeroing") {
  ZeroArray<uint64_t> a;  // 262,144 entries a block
  a.grow(1'000'000);
  for (size_t i : {size_t{0}, size_t{262'143}, size_t{262'144}, size_t{999'999}}) CHECK_FALSE(a.written_near(i));
  a.at(300'000) = 5;
  CHECK_FALSE(a.written_near(262'143));
  CHECK(a.written_near(262'144));
  CHECK(a.written_near(524'287));
  CHECK_FALSE(a.written_near(524'288));
  a[0] = 1;  // operator[] writes without a mark
  CHECK_FALSE(a.written_near(0));
  a.grow(3'000'000);
  CHECK(a.written_near(300'000));
  CHECK(a[300'000] == 5);
  CHECK_FALSE(a.written_near(2'999'999));
  a.at(2'999'999) = 7;
  CHECK(a.written_near(2'999'999));
  a.zero();
  CHECK_FALSE(a.written_near(300'000));
  CHECK(a[300'000] == 0);
  CHECK(a[2'999'999] == 0);
}

TEST_CASE("FreshPageAllocator: a vector grows across the mapped size and keeps its elements") {
  std::vector<uint64_t, FreshPageAllocator<uint64_t>> v;
  for (uint64_t i = 0; i < 1'000'000; ++i) v.push_back(i * 3);  // 8 MB at the end: mapped blocks
  REQUIRE(v.size() == 1'000'000);
  CHECK(v.capacity() * sizeof(uint64_t) >= kFreshPageBytes);
  CHECK(v[0] == 0);
  CHECK(v[123456] == 370368);
  CHECK(v.back() == 2'999'997);
  CHECK(reinterpret_cast<uintptr_t>(v.data()) % (2u << 20) == 0);  // a mapped block starts on a huge page
  v.resize(10);
  v.shrink_to_fit();  // back to a heap block
  CHECK(v.capacity() * sizeof(uint64_t) < kFreshPageBytes);
  CHECK(v[9] == 27);
  std::vector<uint64_t, FreshPageAllocator<uint64_t>> w(v);
  CHECK(w == v);
}
