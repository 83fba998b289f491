// The SQLite store: opening (with clear "not a crm store" errors), the run lock, the runs table,
// and one day's outbox rows and tag changes written in one transaction. Loading is load_facts.cpp.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

#include "engine/store/idem_hash.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/store/sqlite_store_impl.hpp"

namespace crm::engine {

namespace {

// How often a waiting run retries the lock.
constexpr std::chrono::milliseconds kLockPoll{50};

int count_statement(unsigned type, void* ctx, void* /*stmt*/, void* sql) {
  if (type != SQLITE_TRACE_STMT) return 0;
  const char* text = static_cast<const char*>(sql);
  if (text && text[0] == '-' && text[1] == '-') return 0;  // a trigger's sub-statement
  ++*static_cast<int64_t*>(ctx);
  return 0;
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string init_hint(const std::string& path) { return "create or migrate it with: crm init --db " + path; }

}  // namespace

SqliteStore::Impl::Impl(const std::string& path, int flags) : db(path, flags) {
  sqlite3_trace_v2(db.getHandle(), SQLITE_TRACE_STMT, count_statement, &statements);
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl, std::string path) : impl_(std::move(impl)), path_(std::move(path)) {}
SqliteStore::SqliteStore(SqliteStore&&) noexcept = default;
SqliteStore& SqliteStore::operator=(SqliteStore&&) noexcept = default;
SqliteStore::~SqliteStore() = default;

SQLite::Database& SqliteStore::db() { return impl_->db; }
int64_t SqliteStore::statement_count() const { return impl_->statements; }

SqlSession& SqliteStore::sql() {
  if (!impl_->session) impl_->session = std::make_unique<SqliteSession>(impl_->db.getHandle());
  return *impl_->session;
}

SqliteStore SqliteStore::open(const std::string& path, bool create_if_missing, bool read_only) {
  bool memory = path == ":memory:" || path.empty();
  bool exists = memory || std::filesystem::exists(path);
  if (!exists && !create_if_missing) throw StoreError("no store at '" + path + "' (" + init_hint(path) + ")");
  if (!read_only && !memory && exists) refuse_hard_linked_store(path);
  std::unique_ptr<Impl> impl;
  try {
    // NOMUTEX: a Store is used by one thread at a time, and the loader reads millions of cells.
    int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX | (exists ? 0 : SQLite::OPEN_CREATE);
    if (memory) flags |= SQLite::OPEN_CREATE;
    if (read_only && !memory) flags = SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX;
    impl = std::make_unique<Impl>(memory ? ":memory:" : path, flags);
    impl->db.setBusyTimeout(kBusyTimeoutMs);
    try {
      impl->db.exec("SELECT count(*) FROM sqlite_master");  // fails on a file that is not SQLite
    } catch (const SQLite::Exception& e) {
      // A WAL store in a folder we cannot write (no -shm can be made): read the file as it is.
      if (!read_only || memory || e.getErrorCode() != SQLITE_CANTOPEN) throw;
      impl.reset();
      std::string uri = "file:" + std::filesystem::absolute(path).string() + "?immutable=1";
      impl = std::make_unique<Impl>(uri, flags | SQLITE_OPEN_URI);
      impl->db.exec("SELECT count(*) FROM sqlite_master");
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError("'" + path + "' is not a crm store (" + e.what() + "); a new store is made with: crm init --db FILE");
  }
  if (!read_only) impl->db.tryExec("PRAGMA journal_mode = WAL");
  SqliteStore store(std::move(impl), path);
  int version = read_schema_version(store.db());
  if (version == 0 && !read_only && (!exists || create_if_missing)) {
    ensure_schema(store.db());
    version = kSchemaVersion;
  }
  if (version == 0)
    throw StoreError("'" + path + "' is not a crm store: it has no meta table (" + init_hint(path) + ")");
  if (version < kSchemaVersion)
    throw StoreError("the store '" + path + "' has schema version " + std::to_string(version) + ", older than this crm's (" +
                     std::to_string(kSchemaVersion) + "); " + init_hint(path));
  if (version > kSchemaVersion)
    throw StoreError("the store '" + path + "' has schema version " + std::to_string(version) +
                     ", newer than this crm supports (" + std::to_string(kSchemaVersion) + "); upgrade crm");
  return store;
}

void refuse_hard_linked_store(const std::string& path) {
  struct stat st {};
  if (path.empty() || path == ":memory:" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_nlink <= 1) return;
  throw StoreError("the store '" + path + "' has " + std::to_string(st.st_nlink) +
                   " hard links (names for one file), and SQLite keeps its journal per name: writing through one name "
                   "while another is read can corrupt it; remove the other names (find them with: find / -xdev -samefile " +
                   path + "), or use a symbolic link instead");
}

int SqliteStore::init(const std::string& path, SchemaRepairs* repairs) {
  bool memory = path == ":memory:";
  refuse_hard_linked_store(path);  // before anything is written (the journal mode)
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.setBusyTimeout(kBusyTimeoutMs);
    db.exec("SELECT count(*) FROM sqlite_master");
    if (!memory) db.tryExec("PRAGMA journal_mode = WAL");
    SchemaRepairs ignored;
    return ensure_schema(db, repairs ? *repairs : ignored);
  } catch (const SQLite::Exception& e) {
    throw StoreError("cannot initialise '" + path + "' as a crm store: " + e.what());
  }
}

std::optional<std::string> SqliteStore::meta_timezone() {
  SQLite::Statement q(db(), "SELECT value FROM meta WHERE key = 'timezone'");
  if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
  std::string v = q.getColumn(0).getString();
  if (v.empty()) return std::nullopt;
  return v;
}

std::vector<std::pair<int64_t, std::string>> SqliteStore::order_coupons() {
  std::vector<std::pair<int64_t, std::string>> out;
  bool has = false;
  {
    SQLite::Statement info(db(), "SELECT 1 FROM pragma_table_info('orders') WHERE name = 'coupon'");
    has = info.executeStep();
  }
  if (!has) return out;
  SQLite::Statement q(db(), "SELECT id, coupon FROM orders WHERE coupon IS NOT NULL AND coupon <> ''");
  while (q.executeStep())
    if (q.getColumn(0).isInteger()) out.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
  return out;
}

void SqliteStore::set_meta_value(const std::string& key, const std::string& value) {
  SQLite::Statement q(db(), "INSERT INTO meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  q.bind(1, key);
  q.bind(2, value);
  q.exec();
}

void SqliteStore::set_meta_timezone(const std::string& tz_name) {
  SQLite::Statement q(db(), "INSERT INTO meta (key, value) VALUES ('timezone', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  q.bind(1, tz_name);
  q.exec();
}

// --- the run lock
//
// The lock is a flock on the database file itself (its inode), so every path that reaches the
// same file (a symlink, a hard link, a relative path) takes the same lock. Not on a descriptor
// of our own that we close again: closing any descriptor of a file drops the POSIX locks SQLite
// holds on it in this process. So each database inode gets one descriptor per process, kept open
// until the process ends (as SQLite keeps its own), and a flag serialises runs inside the process.
// The holder's pid is written to "<real path>.lock" for the error message only (best effort).

namespace {

struct InodeLock {
  int fd = -1;
  bool held = false;
};

std::mutex& inode_locks_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::pair<dev_t, ino_t>, InodeLock>& inode_locks() {
  static auto* locks = new std::map<std::pair<dev_t, ino_t>, InodeLock>();  // never destroyed: fds stay open
  return *locks;
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

}  // namespace

namespace {

// flock(2) on `lock_path` (LOCK_EX or LOCK_SH), waiting up to `wait`; the descriptor, or -1
// after the wait with the holder's pid (written by exclusive holders) in `holder`.
int flock_wait(const std::string& lock_path, int op, std::chrono::milliseconds wait, std::string& holder) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError("cannot open the run lock file '" + lock_path + "'");
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, op | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      ::close(fd);
      return -1;
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  if (op == LOCK_EX) {
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
      (void)ignored;
    }
  }
  return fd;
}

}  // namespace

RunLock SqliteStore::lock_runs(std::chrono::milliseconds wait) { return lock_runs(wait, std::nullopt); }

// The run lock is a flock on the database file itself (one descriptor per file per process,
// found by device and inode, so a symlink or a hard link takes the same lock): exclusive for a
// whole run, shared for a shard run, which also holds its shard's own lock file exclusively
// (REALPATH.lock-shard-K-of-N), so the N shards of a day run together but never beside a
// whole run.
RunLock SqliteStore::lock_runs(std::chrono::milliseconds wait, const std::optional<Shard>& shard) {
  // Every caller is about to record a run (runs, run_shards): a dropped one is named with the
  // fix, not left to a bare "no such table" halfway through the run.
  for (const char* table : {"runs", "run_shards"}) {
    SQLite::Statement q(db(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, table);
    if (!q.executeStep())
      throw StoreError("the store '" + path_ + "' has no table '" + table + "' (where crm records its runs); it was "
                       "dropped. Recreate it with: crm init --db " + path_);
  }
  if (path_ == ":memory:" || path_.empty()) return RunLock();
  std::pair<dev_t, ino_t> key;
  {
    std::lock_guard<std::mutex> g(inode_locks_mutex());
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) throw StoreError("cannot take the run lock: the store '" + path_ + "' is gone");
    key = {st.st_dev, st.st_ino};
    if (!inode_locks().count(key)) {
      int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw StoreError("cannot open the store '" + path_ + "' to take the run lock");
      struct stat fst {};
      if (::fstat(fd, &fst) != 0) throw StoreError("cannot take the run lock on '" + path_ + "'");
      key = {fst.st_dev, fst.st_ino};  // the file replaced between stat and open: lock what was opened
      if (!inode_locks().count(key)) inode_locks()[key].fd = fd;  // else fd is kept open, unused (see above)
    }
  }
  std::string info_path = real_path(path_) + ".lock";
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    {
      std::lock_guard<std::mutex> g(inode_locks_mutex());
      InodeLock& l = inode_locks()[key];
      if (!l.held && ::flock(l.fd, (shard ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) {
        l.held = true;
        break;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      if (int fd = ::open(info_path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
        char buf[64] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) holder.assign(buf, static_cast<size_t>(n));
        ::close(fd);
      }
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      throw StoreError("another crm run is using the store '" + path_ + "'" +
                       (holder.empty() ? "" : " (process " + holder + ")") + "; waited " +
                       std::to_string(wait.count() / 1000.0).substr(0, 4) +
                       " s for it to finish. Nothing was written; try again when it is done.");
    }
    std::this_thread::sleep_for(kLockPoll);
  }
  int shard_fd = -1;
  if (shard) {
    std::string holder;
    shard_fd = flock_wait(real_path(path_) + ".lock-shard-" + std::to_string(shard->index) + "-of-" +
                              std::to_string(shard->count),
                          LOCK_EX, wait, holder);
    if (shard_fd < 0) {
      std::lock_guard<std::mutex> g(inode_locks_mutex());
      InodeLock& l = inode_locks()[key];
      ::flock(l.fd, LOCK_UN);
      l.held = false;
      throw StoreError("another crm run of shard " + shard->name() + " is using the store '" + path_ + "'" +
                       (holder.empty() ? "" : " (process " + holder + ")") +
                       ". Nothing was written; try again when it is done.");
    }
  }
  // Another name of this file (a hard link) has its own -wal and -shm: what a run through it
  // wrote reached the database file at its checkpoint, under this lock, but pages this
  // connection cached before may be older. Drop them, so everything is read anew.
  sqlite3* handle = impl_->db.getHandle();
  sqlite3_db_release_memory(handle);
  if (int fd = shard ? -1 : ::open(info_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); fd >= 0) {
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
      (void)ignored;
    }
    ::close(fd);
  }
  // Released after a checkpoint: the next holder may reach the file through another name
  // (another -wal), so this run's writes must be in the database file itself. The store must
  // outlive the lock (callers take the lock after opening the store, in the same scope).
  return RunLock([key, handle, shard_fd] {
    if (shard_fd < 0) sqlite3_wal_checkpoint_v2(handle, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    else ::close(shard_fd);
    std::lock_guard<std::mutex> g(inode_locks_mutex());
    InodeLock& l = inode_locks()[key];
    ::flock(l.fd, LOCK_UN);
    l.held = false;
  });
}

// --- runs

std::optional<Days> SqliteStore::last_completed_run() {
  SQLite::Statement q(db(), "SELECT MAX(run_date) FROM runs WHERE status = 'completed'");
  if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
  auto d = parse_date(q.getColumn(0).getString());
  if (!d) throw StoreError("the runs table holds a bad run_date '" + q.getColumn(0).getString() + "'");
  return d;
}

std::optional<Days> SqliteStore::last_completed_run(const std::optional<Shard>& shard) {
  auto whole = last_completed_run();
  if (!shard) return whole;
  SQLite::Statement q(db(), "SELECT MAX(run_date) FROM run_shards WHERE status = 'completed' AND shards = ? AND shard = ?");
  q.bind(1, shard->count);
  q.bind(2, shard->index);
  if (!q.executeStep() || q.getColumn(0).isNull()) return whole;
  auto d = parse_date(q.getColumn(0).getString());
  if (!d) throw StoreError("the run_shards table holds a bad run_date '" + q.getColumn(0).getString() + "'");
  return whole && *whole > *d ? whole : d;
}

std::vector<ShardState> SqliteStore::shard_states(Days day) {
  std::vector<ShardState> out;
  SQLite::Statement q(db(), "SELECT shards, shard, status FROM run_shards WHERE run_date = ? ORDER BY shards, shard");
  q.bind(1, format_date(day));
  while (q.executeStep()) {
    int n = q.getColumn(0).getInt();
    if (out.empty() || out.back().count != n) out.push_back({n, {}});
    if (q.getColumn(2).getString() == "completed") out.back().completed.push_back(q.getColumn(1).getInt());
  }
  return out;
}

namespace {

// "pid@host" of this process, for a 'running' row: a later run tells whether it is gone.
std::string this_process() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  return std::to_string(::getpid()) + "@" + host;
}

bool has_column(SQLite::Database& db, const char* table, const char* column) {
  SQLite::Statement q(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  q.bind(1, table);
  q.bind(2, column);
  return q.executeStep();
}

}  // namespace

void SqliteStore::begin_run(Days day) {
  // runs.process (added here, not by a schema version: older stores get it on their next run;
  // crm init adds it too) names the process, so a 'running' row of a dead one is recognisable.
  if (!has_column(db(), "runs", "process")) db().exec("ALTER TABLE runs ADD COLUMN process TEXT");
  SQLite::Statement q(db(), "INSERT INTO runs (run_date, started_at, completed_at, status, process) "
                            "VALUES (?, ?, NULL, 'running', ?) "
                            "ON CONFLICT (run_date) DO UPDATE SET started_at = excluded.started_at, "
                            "completed_at = NULL, status = 'running', process = excluded.process");
  q.bind(1, format_date(day));
  q.bind(2, utc_now_iso());
  q.bind(3, this_process());
  q.exec();
}

std::optional<Store::UnfinishedRun> SqliteStore::earliest_unfinished_run() {
  bool process = has_column(db(), "runs", "process");
  SQLite::Statement q(db(), std::string("SELECT run_date, started_at, ") + (process ? "process" : "NULL") +
                                " FROM runs WHERE status = 'running' ORDER BY run_date LIMIT 1");
  if (!q.executeStep()) return std::nullopt;
  auto d = parse_date(q.getColumn(0).getString());
  if (!d) throw StoreError("the runs table holds a bad run_date '" + q.getColumn(0).getString() + "'");
  return UnfinishedRun{*d, q.getColumn(1).getString(), q.getColumn(2).getString()};
}

namespace {
void mark_completed(SQLite::Database& db, Days day) {
  SQLite::Statement q(db, "INSERT INTO runs (run_date, started_at, completed_at, status) VALUES (?1, ?2, ?2, 'completed') "
                            "ON CONFLICT (run_date) DO UPDATE SET completed_at = excluded.completed_at, status = 'completed'");
  q.bind(1, format_date(day));
  q.bind(2, utc_now_iso());
  q.exec();
}
}  // namespace

void SqliteStore::complete_run(Days day) { mark_completed(db(), day); }

// --- one day's writes

namespace {

void apply_tags(SQLite::Database& db, Days day, const std::vector<TagChange>& tags) {
  write_tags(db.getHandle(), day, tags);
}

}  // namespace

size_t SqliteStore::write_actions(Days day, OutboxRows& rows, const std::vector<TagChange>& tags, bool complete_day) {
  SQLite::Transaction tx(db(), SQLite::TransactionBehavior::IMMEDIATE);
  size_t inserted = write_outbox(db().getHandle(), day, rows, utc_now_iso());
  apply_tags(db(), day, tags);
  if (complete_day) mark_completed(db(), day);
  tx.commit();
  return inserted;
}

size_t SqliteStore::write_shard_actions(Days day, const Shard& shard, OutboxRows& rows,
                                        const std::vector<TagChange>& tags) {
  size_t inserted = 0;
  {
    SQLite::Transaction tx(db(), SQLite::TransactionBehavior::IMMEDIATE);
    inserted = write_outbox(db().getHandle(), day, rows, utc_now_iso());
    apply_tags(db(), day, tags);
    SQLite::Statement q(db(), "INSERT INTO run_shards (run_date, shards, shard, started_at, completed_at, status) "
                              "VALUES (?1, ?2, ?3, ?4, ?4, 'completed') ON CONFLICT (run_date, shards, shard) DO UPDATE "
                              "SET completed_at = excluded.completed_at, status = 'completed'");
    q.bind(1, format_date(day));
    q.bind(2, shard.count);
    q.bind(3, shard.index);
    q.bind(4, utc_now_iso());
    q.exec();
    SQLite::Statement n(db(), "SELECT count(*) FROM run_shards WHERE run_date = ? AND shards = ? AND status = 'completed'");
    n.bind(1, format_date(day));
    n.bind(2, shard.count);
    if (n.executeStep() && n.getColumn(0).getInt() == shard.count) mark_completed(db(), day);
    tx.commit();
  }
  return inserted;
}

void SqliteStore::set_tags(Days day, const std::vector<TagChange>& tags) {
  SQLite::Transaction tx(db(), SQLite::TransactionBehavior::IMMEDIATE);
  apply_tags(db(), day, tags);
  tx.commit();
}

}  // namespace crm::engine
