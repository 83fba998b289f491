// Exponential backoff with equal jitter, and the per-lane rate limit (backoff.hpp).
#include "engine/deliver/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace crm::deliver {

Backoff::Backoff(double base_seconds, double max_seconds, uint64_t seed)
    : base_(std::max(0.0, base_seconds)), max_(std::max(0.0, max_seconds)), rng_(seed) {}

double Backoff::delay(int failed_attempts) {
  int n = std::clamp(failed_attempts, 1, 62);
  double step = std::min(max_, base_ * std::ldexp(1.0, n - 1));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return step * (0.5 + 0.5 * u(rng_));
}

double Backoff::wait(int failed_attempts, std::optional<double> retry_after) {
  double d = delay(failed_attempts);
  if (retry_after && *retry_after > d) d = *retry_after;
  return d;
}

void RateLimit::book(size_t rows, Clock::time_point now) {
  if (!rate_ || *rate_ <= 0) return;
  auto start = std::max(now, next_);
  next_ = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rows / *rate_));
}

}  // namespace crm::deliver
