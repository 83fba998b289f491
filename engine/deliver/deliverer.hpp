// The delivery loop of `crm deliver`: per lane (channel), fetch the due rows a batch at a time,
// re-check consent, POST, and record the outcome in the store after each batch (at-least-once).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/deliver/deliver_config.hpp"

namespace crm::engine {
class SqlSession;
}

namespace crm::deliver {

struct DeliverReport {
  int64_t delivered = 0;      // rows a receiver took (2xx)
  int64_t failed = 0;         // rows that became `failed` in this run
  int64_t blocked = 0;        // rows that became `blocked_consent` in this run
  int64_t deferred = 0;       // rows left pending with a later next attempt (Retry-After beyond backoff_max)
  int64_t unrouted = 0;       // pending rows of channels that have no webhook
  int64_t would_post = 0;     // dry run: rows that would be posted
  int64_t posts = 0;          // HTTP requests made
  int64_t retries = 0;        // requests that were retries
  std::vector<std::string> unrouted_channels;
  std::vector<std::string> errors;  // why a webhook was given up on in this run (one line each)
  double seconds = 0;

  bool ok() const { return failed == 0 && deferred == 0 && errors.empty(); }
};

struct DeliverOptions {
  bool dry_run = false;                                   // print, post nothing, write nothing
  std::function<void(const std::string&)> on_dry_row;     // dry run: each row's JSON object
  std::function<void(const DeliverReport&)> on_progress;  // after each batch
  std::optional<uint64_t> seed;                           // backoff jitter (random when unset)
};

class Deliverer {
 public:
  // `db` is an open crm store. Throws std::runtime_error when a route's token_env is not set
  // (except in a dry run) or customer_fields names a missing column.
  Deliverer(engine::SqlSession& db, Config config, DeliverOptions options);
  ~Deliverer();
  DeliverReport run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::deliver
