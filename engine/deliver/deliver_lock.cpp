// flock-based delivery lock (deliver_lock.hpp): the holder's pid is written into the lock file
// so that the second crm deliver can name it.
#include "engine/deliver/deliver_lock.hpp"

#include "engine/store/pg_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

namespace crm::deliver {

DeliverLock& DeliverLock::operator=(DeliverLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    pg_ = std::move(o.pg_);
  }
  return *this;
}

DeliverLock::~DeliverLock() {
  if (fd_ >= 0) ::close(fd_);
}

// The advisory lock class of crm deliver (the run lock's are 1668443393 and 1668443394).
constexpr int64_t kPgDeliverLockClass = 1668443395;

DeliverLock DeliverLock::acquire(engine::Store& store, std::chrono::milliseconds wait) {
  auto* pg = dynamic_cast<engine::PgStore*>(&store);
  if (!pg) return acquire(store.location(), wait);
  DeliverLock lock;
  try {
    lock.pg_ = pg->advisory_lock(kPgDeliverLockClass, wait, "another crm deliver is delivering from '" + store.location() + "'");
  } catch (const engine::StoreError& e) {
    throw std::runtime_error(e.what());
  }
  return lock;
}

DeliverLock DeliverLock::acquire(const std::string& store_path, std::chrono::milliseconds wait) {
  if (store_path.empty() || store_path == ":memory:") return DeliverLock();
  // The lock file is named after the store's real path (symlinks and relative paths resolved),
  // so every path that reaches one store takes one lock: two deliveries through a symlink would
  // otherwise send the same pending rows twice (issue 12.1). Hard-linked stores are refused
  // before this (SqliteStore::open for writing).
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(store_path, ec);
  std::string path = (ec ? store_path : real.string()) + ".deliver.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open the delivery lock file '" + path + "'");
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      ::close(fd);
      throw std::runtime_error("another crm deliver is delivering from '" + store_path + "'" +
                               (holder.empty() ? "" : " (process " + holder + ")") +
                               "; nothing was done. Try again when it has finished.");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return DeliverLock(fd);
}

}  // namespace crm::deliver
