// The customer store (SPEC §5) on SQLite: schema and migrations, the bulk load into Facts, and
// what runs write (outbox, tags, completed days) under a store-level run lock.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/facts.hpp"
#include "lang/date.hpp"

namespace SQLite {
class Database;
}

namespace crm::engine {

// Infrastructure failures of the store (cannot open, not a crm store, SQLite errors, lock
// timeout). The CLI prints e.what() and exits 1.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The schema version this build writes; `crm init` migrates older stores up to it.
constexpr int kSchemaVersion = 2;

// Schema management (schema.cpp). `ensure_schema` creates missing tables, runs the migrations
// from the store's version to kSchemaVersion in one transaction, and returns the version found
// before (0 = no meta table: a new file or tables made by hand). Throws StoreError when the
// store was made by a newer crm.
int ensure_schema(SQLite::Database& db);
// The schema version recorded in `meta`, 0 when there is no meta table.
int read_schema_version(SQLite::Database& db);

// One action to write to the outbox (SPEC §5, §6.6).
struct OutboxRow {
  int64_t customer_id = 0;
  std::string rule;
  std::string action;                  // send | coupon | points | offer | tag | untag
  std::string target;
  std::optional<std::string> channel;  // null for non-sends
  std::string payload;                 // JSON text ("{}" when empty)
  std::string idem_key;                // UNIQUE: rule, customer and dedupe value
};

// A tag or untag action applied to the tags table together with the day's actions.
struct TagChange {
  int64_t customer_id = 0;
  std::string tag;
  bool set = true;  // false: untag
};

// Held while a run writes to the store: an exclusive lock on "<store>.lock" (flock), released
// by the destructor or by the process ending (even kill -9).
class RunLock {
 public:
  RunLock() = default;
  explicit RunLock(int fd) : fd_(fd) {}
  RunLock(RunLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RunLock& operator=(RunLock&& o) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// How long a second run waits for the first to finish before failing.
constexpr std::chrono::seconds kDefaultRunLockWait{30};
// SQLite busy timeout: readers and writers of other connections wait this long for a lock.
constexpr int kBusyTimeoutMs = 10'000;

// load_facts reads orders and order items on a second connection and thread when the store
// has at least this many orders: below it the second connection's setup (and the idle core
// it needs) is not worth it, and small stores stay on the simplest path.
constexpr size_t kParallelLoadMinOrders = 200'000;

// One open store. Not thread-safe: use one Store per thread.
class Store {
 public:
  // Opens an existing crm store. With create_if_missing, a missing file (or ":memory:", or a
  // file without a meta table) is given the schema as `crm init` would; an older schema
  // version is still an error. Throws StoreError with a hint naming `crm init --db FILE`
  // when the file is missing, not SQLite, has no crm schema, or has an older schema version.
  static Store open(const std::string& path, bool create_if_missing = false);
  // Creates or migrates the schema of `path` (crm init). Returns the version found before.
  static int init(const std::string& path);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const { return path_; }
  SQLite::Database& db();

  // Loads every table in one pass each (a constant number of statements, whatever the number
  // of customers), taking dates in time zone `tz`. Odd data becomes warnings, never an error.
  LoadResult load_facts(const TimeZone& tz);
  // The same with a zone name (throws StoreError for an unknown zone).
  LoadResult load_facts(const std::string& tz_name);
  // Orders from which load_facts reads in parallel (kParallelLoadMinOrders; tests lower it).
  void set_parallel_load_min_orders(size_t orders);

  // The extra columns of the customers table as attributes, without loading anything else
  // (for `crm check --db`). Same as load_facts(...).facts.extra_attributes().
  std::vector<lang::CheckOptions::Extra> extra_attributes();

  // The zone a run takes dates in: the script's `timezone` if given, else the store's meta
  // timezone, else UTC. Throws StoreError for an unknown zone name.
  TimeZone run_timezone(const std::optional<std::string>& script_timezone);

  // The `timezone` setting of the store's meta table, if any.
  std::optional<std::string> meta_timezone();
  void set_meta_timezone(const std::string& tz_name);

  // The run lock (see RunLock). Waits up to `wait`, then throws StoreError naming the store and
  // the process holding it. In-memory stores (":memory:") return a lock that holds nothing.
  RunLock lock_runs(std::chrono::milliseconds wait = kDefaultRunLockWait);

  // Runs (table `runs`): the latest day whose run completed; nullopt when none has.
  std::optional<Days> last_completed_run();
  void begin_run(Days day);     // records the day as started (status 'running')
  void complete_run(Days day);  // marks it completed

  // Writes one day's actions in ONE transaction: INSERT OR IGNORE on idem_key, and the tag
  // changes (tag: insert if absent with set_at = day; untag: delete). Returns how many outbox
  // rows were new (0 when the same day is written again).
  // With `complete_day`, the day is marked completed in the same transaction, so a run killed at
  // any point leaves whole days only.
  size_t write_actions(Days day, const std::vector<OutboxRow>& rows, const std::vector<TagChange>& tags = {},
                       bool complete_day = false);
  // Tag changes alone, in their own transaction.
  void set_tags(Days day, const std::vector<TagChange>& tags);

  // SQL statements executed on this connection so far (each statement run counts once), so
  // tests can assert the work per load (no N+1).
  int64_t statement_count() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace crm::engine
