// The customer store (SPEC §5) as an abstract boundary: what a run reads (facts, settings) and
// writes (outbox, tags, completed days) under a store-level run lock. SQLite implements it in
// sqlite_store.hpp; open_store() picks the backend from the location.
#pragma once
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/store/facts.hpp"
#include "engine/store/sql_session.hpp"
#include "lang/date.hpp"

namespace crm::engine {

// Infrastructure failures of the store (cannot open, not a crm store, SQLite errors, lock
// timeout). The CLI prints e.what() and exits 1.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The schema version this build writes; `crm init` migrates older stores up to it.
// Version 3 added the run_shards table (per-shard completion of a day's run, crm run --shard);
// version 4 the narrow outbox key (idem_hash, idem_hash.hpp; docs/store.md "The outbox write");
// version 6 dropped outbox_by_run_date (SQLite).
constexpr int kSchemaVersion = 6;

// Shard `index` of `count` (1 <= index <= count): the customers whose id hashes there
// (shard_of). Everything per customer is evaluated inside its one shard.
struct Shard {
  int index = 1;
  int count = 1;
  std::string name() const { return std::to_string(index) + "/" + std::to_string(count); }
};
// The shard (1..count) of a customer id: a fixed mix of the id, the same on every machine,
// build and backend, in arithmetic that SQL computes exactly on both backends (signed 64-bit
// integers that never overflow, truncating %, and xor written with | & and >>), so a shard
// run asks the database for its own rows only (shard_sql):
//   m = id mod P (made non-negative), a = m * A mod P, x = a xor (a >> 13), b = x * B mod P,
//   shard = b mod count + 1, with P = 2^31 - 1 and A, B below P (products stay below 2^62).
constexpr int64_t kShardP = 2147483647, kShardA = 1103515245, kShardB = 740734667;
inline int shard_of(int64_t customer_id, int count) {
  int64_t m = ((customer_id % kShardP) + kShardP) % kShardP;
  int64_t a = (m * kShardA) % kShardP;
  int64_t x = a ^ (a >> 13);
  int64_t b = (x * kShardB) % kShardP;
  return static_cast<int>(b % count) + 1;
}
// The same as a SQL condition on `column` (an already quoted column expression): true for the
// customers of `shard`, and for a null id (the loader warns about such rows in every shard).
std::string shard_sql(const std::string& column, const Shard& shard);
// The shards of one day's run with `count` shards that have completed.
struct ShardState {
  int count = 0;
  std::vector<int> completed;  // ascending
};

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

// A day's outbox rows handed to the store a chunk at a time, inside the day's one transaction,
// so a run never holds all of a day's rows in memory (store.md "The outbox write").
class OutboxRows {
 public:
  virtual ~OutboxRows() = default;
  // How many rows there are in all.
  virtual size_t count() const = 0;
  // The next chunk of `max` rows (fewer only for the last; OutboxRowVector hands its vector
  // whole), in order; null when none remain. Valid until the next call.
  virtual const std::vector<OutboxRow>* next(size_t max) = 0;
};
// The rows of a vector, as one chunk.
class OutboxRowVector final : public OutboxRows {
 public:
  explicit OutboxRowVector(const std::vector<OutboxRow>& rows) : rows_(rows) {}
  size_t count() const override { return rows_.size(); }
  const std::vector<OutboxRow>* next(size_t) override {
    if (done_ || rows_.empty()) return nullptr;
    done_ = true;
    return &rows_;
  }

 private:
  const std::vector<OutboxRow>& rows_;
  bool done_ = false;
};

// A tag or untag action applied to the tags table together with the day's actions.
struct TagChange {
  int64_t customer_id = 0;
  std::string tag;
  bool set = true;  // false: untag
};

// Held while a run writes to the store (an exclusive lock taken by Store::lock_runs): released
// by the destructor or by the process ending (even kill -9). Each backend says how it locks.
class RunLock {
 public:
  RunLock() = default;
  explicit RunLock(std::function<void()> release) : release_(std::move(release)) {}
  RunLock(RunLock&& o) noexcept : release_(std::move(o.release_)) { o.release_ = nullptr; }
  RunLock& operator=(RunLock&& o) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();
  bool held() const { return static_cast<bool>(release_); }

 private:
  std::function<void()> release_;
};

// How long a second run waits for the first to finish before failing.
constexpr std::chrono::seconds kDefaultRunLockWait{30};
// SQLite busy timeout: readers and writers of other connections wait this long for a lock.
constexpr int kBusyTimeoutMs = 10'000;

// One open store, of any backend. Not thread-safe: use one Store per thread. Infrastructure
// failures throw StoreError with a message fit for a user (no password, a hint what to do).
class Store {
 public:
  virtual ~Store();

  // Where the store is, for messages (a URI's password is never part of it).
  virtual const std::string& location() const = 0;

  // Loads every table in one pass each (a constant number of statements, whatever the number
  // of customers), taking dates in time zone `tz`. Odd data becomes warnings, never an error.
  // With `load_shard` set, only the customers of that shard (and their rows) are loaded; rows
  // of other shards' customers are skipped without a warning.
  virtual LoadResult load_facts(const TimeZone& tz) = 0;
  std::optional<Shard> load_shard;
  // The same with a zone name (throws StoreError for an unknown zone).
  LoadResult load_facts(const std::string& tz_name);

  // The extra columns of the customers table as attributes, without loading anything else
  // (for `crm check --db`). Same as load_facts(...).facts.extra_attributes().
  virtual std::vector<lang::CheckOptions::Extra> extra_attributes() = 0;
  // Whether the store holds a fitted lifetime model (`crm fit`, table `models`): crm check warns
  // on p_alive and friends without one (load_models.cpp).
  virtual bool has_lifetime_models() { return false; }

  // The zone a run takes dates in: the script's `timezone` if given, else the store's meta
  // timezone, else UTC (run_timezone_name). Throws StoreError for an unknown zone name.
  TimeZone run_timezone(const std::optional<std::string>& script_timezone);

  // The optional `orders.coupon` column (crm outcomes): order id -> coupon code of the orders
  // that carry one; empty when the column is missing. Backends without it return nothing.
  virtual std::vector<std::pair<int64_t, std::string>> order_coupons() { return {}; }
  // The `timezone` setting of the store's meta table, if any.
  virtual std::optional<std::string> meta_timezone() = 0;
  virtual void set_meta_timezone(const std::string& tz_name) = 0;
  // Sets another setting of the meta table (`currency`: crm init --currency).
  virtual void set_meta_value(const std::string& key, const std::string& value) = 0;

  // The run lock (see RunLock). Waits up to `wait`, then throws StoreError naming the store and
  // the process holding it. In-memory stores return a lock that holds nothing.
  virtual RunLock lock_runs(std::chrono::milliseconds wait = kDefaultRunLockWait) = 0;
  // The lock of a sharded run: runs of different shards proceed together, a run of the same
  // shard or an unsharded run waits. Without a shard, the same as lock_runs(wait).
  virtual RunLock lock_runs(std::chrono::milliseconds wait, const std::optional<Shard>& shard) = 0;

  // Runs (table `runs`): the latest day whose run completed; nullopt when none has.
  virtual std::optional<Days> last_completed_run() = 0;
  // For a shard: the latest day completed as a whole or by that shard (run_shards).
  virtual std::optional<Days> last_completed_run(const std::optional<Shard>& shard) = 0;
  // Records the day as started (status 'running'), with the process ("pid@host") and start time.
  virtual void begin_run(Days day) = 0;
  virtual void complete_run(Days day) = 0;  // marks it completed

  // The earliest day whose run started but never completed (a 'running' row): that run was
  // killed or crashed, or is still going (callers hold the run lock, so it is not). Catch-up
  // starts there. Backends that keep no such rows return nullopt.
  struct UnfinishedRun {
    Days day = 0;
    std::string started_at;  // UTC ISO time, may be empty
    std::string process;     // "pid@host" of the process that started it, may be empty
  };
  virtual std::optional<UnfinishedRun> earliest_unfinished_run() { return std::nullopt; }

  // Writes one day's actions in ONE transaction: insert-or-ignore on idem_key, and the tag
  // changes (tag: insert if absent with set_at = day; untag: delete). Returns how many outbox
  // rows were new (0 when the same day is written again).
  // With `complete_day`, the day is marked completed in the same transaction, so a run killed at
  // any point leaves whole days only.
  // The rows come chunk by chunk (OutboxRows): the whole day is still one transaction.
  virtual size_t write_actions(Days day, OutboxRows& rows, const std::vector<TagChange>& tags, bool complete_day) = 0;
  size_t write_actions(Days day, const std::vector<OutboxRow>& rows, const std::vector<TagChange>& tags = {},
                       bool complete_day = false) {
    OutboxRowVector all(rows);
    return write_actions(day, all, tags, complete_day);
  }
  // A shard's day: like write_actions, and in the same transaction the shard is recorded as
  // completed for the day (table run_shards); when that completes every shard of the day, the
  // day itself is marked completed. Returns the new outbox rows.
  virtual size_t write_shard_actions(Days day, const Shard& shard, OutboxRows& rows, const std::vector<TagChange>& tags) = 0;
  size_t write_shard_actions(Days day, const Shard& shard, const std::vector<OutboxRow>& rows,
                             const std::vector<TagChange>& tags) {
    OutboxRowVector all(rows);
    return write_shard_actions(day, shard, all, tags);
  }
  // The shard runs recorded for `day`, one entry per shard count used.
  virtual std::vector<ShardState> shard_states(Days day) = 0;
  // Tag changes alone, in their own transaction.
  virtual void set_tags(Days day, const std::vector<TagChange>& tags) = 0;

  // Plain SQL on the store's connection, for the features with tables of their own (crm deliver,
  // crm fit) or that read or write the shop's rows directly (crm analyze, crm import csv).
  virtual SqlSession& sql();

  // Statements executed on this store so far (each statement run counts once), so tests can
  // assert the work per load (no N+1).
  virtual int64_t statement_count() const = 0;
};

// The zone rule of a run, decided here once for every caller (CLI, API, tests): the script's
// `timezone` if given, else the store's meta timezone, else "UTC".
std::string run_timezone_name(const std::optional<std::string>& script_timezone,
                              const std::optional<std::string>& store_timezone);

// Opens the store at `location` (a SQLite file path, ":memory:", or a postgresql:// URI). With create_if_missing, a
// missing store is given the schema as `crm init` would. Throws StoreError with a hint.
std::unique_ptr<Store> open_store(const std::string& location, bool create_if_missing = false);
// Opens an existing store for reading only (run --dry-run, simulate, explain, check --db), so a
// store in a read-only folder or file works; writing through it fails.
std::unique_ptr<Store> open_store_read_only(const std::string& location);
// Creates or migrates the schema at `location` (crm init). Returns the version found before;
// `added` (optional) gets what was added to a store that had a schema ("table runs", "column
// runs.process"; SQLite stores: PostgreSQL's init recreates nothing in an up-to-date store).
int init_store(const std::string& location, std::vector<std::string>* added = nullptr);

}  // namespace crm::engine
