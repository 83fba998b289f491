// SqliteStore::load_facts: every table of SPEC §5 read in one pass each (raw sqlite3 statements,
// no per-customer query) by the shared Loader (load_loader.hpp); big stores read orders and items
// on a second connection and thread, on the same snapshot.
#include <sqlite3.h>

#include <memory>
#include <set>
#include <string>

#include "engine/store/load_loader.hpp"
#include "engine/store/load_sqlite_query.hpp"
#include "engine/store/sqlite_store.hpp"
#include "engine/store/sqlite_store_impl.hpp"

namespace crm::engine {

using namespace loading;

std::vector<lang::CheckOptions::Extra> SqliteStore::extra_attributes() {
  std::vector<lang::CheckOptions::Extra> out;
  for (const ExtraColumn& e : extra_columns(table_columns(impl_->db.getHandle(), "customers"), nullptr))
    out.push_back({e.name, e.type});
  return out;
}

namespace {

// A read-only connection to the same file for the parallel load, or null when there is none
// (an in-memory store, or the file cannot be opened again).
struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;

DbHandle open_second(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  if (!file || !*file) return nullptr;  // ":memory:" or a temporary database
  sqlite3* raw = nullptr;
  // NOMUTEX like the main connection (SqliteStore::open): each connection is used by one thread,
  // and with the serialized default every sqlite3_column_* call takes a mutex (~11 % of a 1M load).
  int rc = sqlite3_open_v2(file, &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle second(raw);
  if (rc != SQLITE_OK) return nullptr;
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return second;
}

int64_t data_version(sqlite3* db) {
  Query q(db, "PRAGMA data_version");
  return q.step() ? q.i64(0) : -1;
}

void exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db) + " in: " + sql);
}

// Starts the read transaction of `db` now (BEGIN alone defers it to the first read).
void start_read(sqlite3* db) {
  Query q(db, "SELECT 1 FROM sqlite_master LIMIT 1");
  q.step();
}

// Opens read transactions on `main` (already in BEGIN, not yet reading) and `second` that see
// the same snapshot. There is no snapshot API in this SQLite build, so: `second` reads
// PRAGMA data_version (v0), `main` starts its read, `second` starts its read and reads
// data_version again (v1). data_version changes when another connection commits, so v0 == v1
// means no commit landed between the two reads, and main's snapshot (taken in between) is
// second's. Returns false (both transactions closed, main back in autocommit) when a commit did.
bool start_same_snapshot(sqlite3* main, sqlite3* second) {
  int64_t before = data_version(second);
  exec(main, "BEGIN");
  start_read(main);
  exec(second, "BEGIN");
  start_read(second);
  if (data_version(second) == before) return true;
  exec(second, "ROLLBACK");
  exec(main, "ROLLBACK");
  return false;
}

}  // namespace

void SqliteStore::set_parallel_load_min_orders(size_t orders) { impl_->parallel_load_min_orders = orders; }

LoadResult SqliteStore::load_facts(const TimeZone& tz) {
  // One read transaction: every table is read from the same snapshot, even while a run or an
  // import writes (WAL readers do not block writers). Big stores read orders and items on a
  // second connection and thread, on the same snapshot (start_same_snapshot; docs/store.md).
  sqlite3* db = impl_->db.getHandle();
  // A SPEC §5 table that is missing (dropped) must not read as empty: win-back would fire for
  // every customer of a store without orders. Every table is required (crm init recreates them).
  {
    std::set<std::string> have;
    Query q(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')");  // one statement
    while (q.step()) have.insert(std::string(q.text(0)));
    for (const char* table : {"customers", "products", "orders", "order_items", "subscriptions", "surveys",
                              "referrals", "events", "tags", "outbox"})
      if (!have.count(table))
        throw StoreError("the store '" + path_ + "' has no table '" + table + "' (SPEC §5); it was dropped or never "
                         "made. Restore it from a backup, or recreate it empty with: crm init --db " + path_);
  }
  bool own_tx = sqlite3_get_autocommit(db) != 0;
  DbHandle second;
  std::optional<size_t> orders_hint;
  if (own_tx) orders_hint = rows_hint(db, "orders");
  if (own_tx && *orders_hint >= impl_->parallel_load_min_orders) {
    second = open_second(db);
    // A commit between the two reads: try once more, then read on one connection.
    try {
      for (int attempt = 0; second && attempt < 2; ++attempt)
        if (start_same_snapshot(db, second.get())) break;
        else if (attempt == 1) second.reset();
    } catch (const StoreError&) {
      second.reset();
      if (!sqlite3_get_autocommit(db)) impl_->db.tryExec("ROLLBACK");
    }
  }
  if (own_tx && !second) impl_->db.exec("BEGIN");
  try {
    SqliteSource main_source{db}, second_source{second.get()};
    Loader<SqliteSource> loader(main_source, tz, second ? &second_source : nullptr, orders_hint, load_shard);
    LoadResult res = loader.run();
    load_model_rows(db, res.facts);  // load_models.cpp
    if (second) exec(second.get(), "COMMIT");
    if (own_tx) impl_->db.exec("COMMIT");
    return res;
  } catch (...) {
    if (own_tx) impl_->db.tryExec("ROLLBACK");
    throw;
  }
}

}  // namespace crm::engine

