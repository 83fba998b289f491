// Pacing of deliveries: the wait before a retry (exponential backoff with jitter, or the
// receiver's Retry-After) and the per-channel rate limit between posts.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace crm::deliver {

// Wait before attempt n+1 after n failed attempts (n >= 1):
//   d = min(max, base * 2^(n-1)) * (1/2 + u/2),  u uniform in [0, 1)
// ("equal jitter": never less than half the exponential step, so retries of many rows spread out
// without collapsing onto each other, and never more than `max`).
class Backoff {
 public:
  Backoff(double base_seconds, double max_seconds, uint64_t seed = std::random_device{}());
  double delay(int failed_attempts);
  // The wait after a failure: the backoff, or the receiver's Retry-After when it is longer.
  double wait(int failed_attempts, std::optional<double> retry_after);
  double base() const { return base_; }
  double max() const { return max_; }

 private:
  double base_, max_;
  std::mt19937_64 rng_;
};

// At most `rate` rows per second on one lane: each post of n rows books n / rate seconds, and
// the next post of the lane starts when the previous booking ends (no burst beyond one batch).
class RateLimit {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimit(std::optional<double> rows_per_second = std::nullopt) : rate_(rows_per_second) {}
  Clock::time_point ready_at() const { return next_; }
  void book(size_t rows, Clock::time_point now = Clock::now());

 private:
  std::optional<double> rate_;
  Clock::time_point next_{};
};

}  // namespace crm::deliver
