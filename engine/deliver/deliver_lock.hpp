// The delivery lock: one `crm deliver` at a time per store, so two deliveries never post the
// same rows in parallel. A flock on "<store>.deliver.lock", separate from the run lock
// ("<store>.lock"), so `crm run` and `crm deliver` do not wait for each other. On PostgreSQL, a
// session advisory lock of its own class (PgStore::advisory_lock).
#pragma once
#include <chrono>
#include <string>

#include "engine/store/store.hpp"

namespace crm::deliver {

class DeliverLock {
 public:
  DeliverLock() = default;
  DeliverLock(DeliverLock&& o) noexcept : fd_(o.fd_), pg_(std::move(o.pg_)) { o.fd_ = -1; }
  DeliverLock& operator=(DeliverLock&& o) noexcept;
  DeliverLock(const DeliverLock&) = delete;
  DeliverLock& operator=(const DeliverLock&) = delete;
  ~DeliverLock();  // releases the lock; so does the process ending, even by kill -9

  // Takes the lock of `store_path`, waiting up to `wait`; throws std::runtime_error naming the
  // process that holds it. An in-memory store (":memory:") gets a lock that holds nothing.
  static DeliverLock acquire(const std::string& store_path, std::chrono::milliseconds wait);
  // The same for an open store of either backend.
  static DeliverLock acquire(engine::Store& store, std::chrono::milliseconds wait);

 private:
  explicit DeliverLock(int fd) : fd_(fd) {}
  int fd_ = -1;
  engine::RunLock pg_;
};

}  // namespace crm::deliver
