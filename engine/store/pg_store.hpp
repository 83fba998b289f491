// The PostgreSQL store: the shop's own database (or a replica) as the crm store. The same
// tables as SQLite in PostgreSQL's types (pg_schema.cpp), facts read with COPY ... TO STDOUT by
// the shared Loader (pg_load.cpp), the day's outbox written with COPY into a temporary table and
// one INSERT ... ON CONFLICT (idem_hash) DO NOTHING, and the run lock as an advisory lock.
#pragma once
#include <memory>
#include <string>

#include "engine/store/pg_conn.hpp"
#include "engine/store/pg_session.hpp"
#include "engine/store/store.hpp"

namespace crm::engine {

class PgStore final : public Store {
 public:
  // Connects and checks the schema like SqliteStore::open (not a crm store, older or newer
  // schema: StoreError with a hint). With create_if_missing, a database without a meta table
  // is given the schema.
  static std::unique_ptr<PgStore> open(const std::string& uri, bool create_if_missing = false);
  // Creates or migrates the schema (crm init). Returns the version found before.
  static int init(const std::string& uri);

  explicit PgStore(pg::Conn conn);
  ~PgStore() override;

  const std::string& location() const override { return conn_.location(); }
  pg::Conn& conn() { return conn_; }

  using Store::load_facts;
  LoadResult load_facts(const TimeZone& tz) override;
  std::vector<lang::CheckOptions::Extra> extra_attributes() override;
  std::optional<std::string> meta_timezone() override;
  std::vector<std::pair<int64_t, std::string>> order_coupons() override;
  void set_meta_timezone(const std::string& tz_name) override;
  void set_meta_value(const std::string& key, const std::string& value) override;
  RunLock lock_runs(std::chrono::milliseconds wait = kDefaultRunLockWait) override;
  RunLock lock_runs(std::chrono::milliseconds wait, const std::optional<Shard>& shard) override;
  std::optional<Days> last_completed_run() override;
  std::optional<Days> last_completed_run(const std::optional<Shard>& shard) override;
  void begin_run(Days day) override;
  void complete_run(Days day) override;
  using Store::write_actions;
  size_t write_actions(Days day, OutboxRows& rows, const std::vector<TagChange>& tags, bool complete_day) override;
  using Store::write_shard_actions;
  size_t write_shard_actions(Days day, const Shard& shard, OutboxRows& rows, const std::vector<TagChange>& tags) override;
  std::vector<ShardState> shard_states(Days day) override;
  void set_tags(Days day, const std::vector<TagChange>& tags) override;
  int64_t statement_count() const override { return conn_.statements; }
  SqlSession& sql() override;
  bool has_lifetime_models() override;
  // A session advisory lock (class `lock_class`, keyed by the schema) on a connection of its
  // own, so the server releases it when the process ends, even by kill -9. Polls up to `wait`,
  // then throws StoreError with `busy` and the backends holding it.
  RunLock advisory_lock(int64_t lock_class, std::chrono::milliseconds wait, const std::string& busy);

  // Copies the SPEC tables of a SQLite store (a freshly generated or imported one) into this
  // empty store with COPY, adding extra customers columns (crm sample / crm import on PostgreSQL).
  void copy_from_sqlite(const std::string& sqlite_path);
  // Number of customers (sample and import refuse a store that has any).
  int64_t customer_count();

 private:
  // The day's outbox rows (none when null) and tag changes, inside the caller's transaction.
  void apply_writes(Days day, OutboxRows* rows, const std::vector<TagChange>& tags, size_t& inserted);
  size_t resolve_collisions(const std::string& date);
  pg::Conn conn_;
  std::unique_ptr<PgSession> session_;
};

// Schema of the PostgreSQL store (pg_schema.cpp).
int pg_read_schema_version(pg::Conn& conn);
int pg_ensure_schema(pg::Conn& conn);

}  // namespace crm::engine
