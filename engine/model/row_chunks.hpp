// Likelihood sums over many rows on all cores, with a result that does not depend on how many:
// the rows are cut into chunks of a fixed size, each chunk summed on its own, and the chunk sums
// added in chunk order. A store of 1M customers (~550k distinct rows) is 9 chunks.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace crm::model {

constexpr size_t kRowChunk = 65536;

// The threads a fit uses: the machine's cores, at most 8 (CRM_FIT_THREADS overrides; 1 = none).
unsigned fit_threads();

// Calls fn(begin, end, part) for the chunks [begin, end) of [0, n) and returns the parts added in
// chunk order (Part: default-constructible, with +=). Runs on the calling thread alone when n
// fits one chunk or fit_threads() is 1; `fn` must then only write its own part.
// `chunk` may be smaller for costly items (the part sums must then not depend on it, or it must
// stay fixed).
template <class Part, class Fn>
Part sum_row_chunks(size_t n, Fn&& fn, size_t chunk = kRowChunk) {
  const size_t chunks = std::max<size_t>(1, (n + chunk - 1) / chunk);
  std::vector<Part> parts(chunks);
  auto run = [&](size_t c) { fn(c * chunk, std::min(n, (c + 1) * chunk), parts[c]); };
  const unsigned threads = static_cast<unsigned>(std::min<size_t>(fit_threads(), chunks));
  if (threads <= 1) {
    for (size_t c = 0; c < chunks; ++c) run(c);
  } else {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t c; (c = next.fetch_add(1)) < chunks;) run(c);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  Part total = parts[0];
  for (size_t c = 1; c < chunks; ++c) total += parts[c];
  return total;
}

// A chunk's part of a log-likelihood and of its gradient by N parameters.
template <size_t N>
struct LikelihoodSum {
  double ll = 0, g[N] = {};
  LikelihoodSum& operator+=(const LikelihoodSum& o) {
    ll += o.ll;
    for (size_t k = 0; k < N; ++k) g[k] += o.g[k];
    return *this;
  }
};

}  // namespace crm::model
