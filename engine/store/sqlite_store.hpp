// The SQLite store (the embedded default): one file, WAL mode, the schema and its migrations
// (schema.cpp), the bulk load (load_facts.cpp), and the run lock on the database file itself.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/store/store.hpp"

namespace SQLite {
class Database;
}

namespace crm::engine {

// Schema management (schema.cpp). `ensure_schema` creates missing tables, runs the migrations
// from the store's version to kSchemaVersion in one transaction, and returns the version found
// before (0 = no meta table: a new file or tables made by hand). Throws StoreError when the
// store was made by a newer crm.
int ensure_schema(SQLite::Database& db);
// The schema version recorded in `meta`, 0 when there is no meta table.
int read_schema_version(SQLite::Database& db);
// What a `crm init` changed in a store that already had a schema: "table runs", "column
// runs.process", ... (tables and columns that ensure_schema added). Empty when nothing changed.
struct SchemaRepairs {
  std::vector<std::string> tables;
  std::vector<std::string> columns;  // "table.column"
  bool empty() const { return tables.empty() && columns.empty(); }
};
// ensure_schema, also telling what it added to a store that had a schema version already.
int ensure_schema(SQLite::Database& db, SchemaRepairs& repairs);

// Throws StoreError when the file at `path` has more than one hard link (several names for one
// file). SQLite keeps its journal (-wal, -shm) per name, so a write through one name while
// another name is read can tear the other reader's image or corrupt the file; every command that
// writes a store refuses such a file (docs/hardening.md). Symlinks resolve to one name: fine.
void refuse_hard_linked_store(const std::string& path);

// load_facts reads orders and order items on a second connection and thread when the store
// has at least this many orders: below it the second connection's setup (and the idle core
// it needs) is not worth it, and small stores stay on the simplest path.
constexpr size_t kParallelLoadMinOrders = 200'000;

class SqliteStore final : public Store {
 public:
  // Opens an existing crm store. With create_if_missing, a missing file (or ":memory:", or a
  // file without a meta table) is given the schema as `crm init` would; an older schema
  // version is still an error. Throws StoreError with a hint naming `crm init --db FILE`
  // when the file is missing, not SQLite, has no crm schema, or has an older schema version.
  // With read_only, the file is opened with SQLITE_OPEN_READONLY (nothing is created or
  // migrated); a WAL store whose folder is read-only is then read as immutable.
  static SqliteStore open(const std::string& path, bool create_if_missing = false, bool read_only = false);
  // Creates or migrates the schema of `path` (crm init). Returns the version found before;
  // `repairs` (optional) gets the tables and columns it added to a store that had a schema.
  static int init(const std::string& path, SchemaRepairs* repairs = nullptr);

  SqliteStore(SqliteStore&&) noexcept;
  SqliteStore& operator=(SqliteStore&&) noexcept;
  ~SqliteStore() override;

  const std::string& location() const override { return path_; }
  const std::string& path() const { return path_; }
  SQLite::Database& db();

  using Store::load_facts;
  LoadResult load_facts(const TimeZone& tz) override;
  // Orders from which load_facts reads in parallel (kParallelLoadMinOrders; tests lower it).
  void set_parallel_load_min_orders(size_t orders);
  std::vector<lang::CheckOptions::Extra> extra_attributes() override;
  bool has_lifetime_models() override;
  std::optional<std::string> meta_timezone() override;
  std::vector<std::pair<int64_t, std::string>> order_coupons() override;
  void set_meta_timezone(const std::string& tz_name) override;
  void set_meta_value(const std::string& key, const std::string& value) override;
  RunLock lock_runs(std::chrono::milliseconds wait = kDefaultRunLockWait) override;
  RunLock lock_runs(std::chrono::milliseconds wait, const std::optional<Shard>& shard) override;
  std::optional<Days> last_completed_run() override;
  std::optional<Days> last_completed_run(const std::optional<Shard>& shard) override;
  using Store::write_shard_actions;
  size_t write_shard_actions(Days day, const Shard& shard, OutboxRows& rows, const std::vector<TagChange>& tags) override;
  std::vector<ShardState> shard_states(Days day) override;
  void begin_run(Days day) override;
  void complete_run(Days day) override;
  std::optional<UnfinishedRun> earliest_unfinished_run() override;
  using Store::write_actions;
  size_t write_actions(Days day, OutboxRows& rows, const std::vector<TagChange>& tags, bool complete_day) override;
  void set_tags(Days day, const std::vector<TagChange>& tags) override;
  int64_t statement_count() const override;
  SqlSession& sql() override;

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl, std::string path);
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace crm::engine
