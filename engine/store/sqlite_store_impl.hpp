// The private state of a Store (sqlite_store.cpp, load_facts.cpp): the connection and the
// counter of statements run on it; the outbox write shared with sqlite_outbox.cpp.
#pragma once
#include <SQLiteCpp/SQLiteCpp.h>

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include <memory>

#include "engine/store/sqlite_session.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::engine {

struct SqliteStore::Impl {
  Impl(const std::string& path, int flags);
  int64_t statements = 0;  // before db: the trace callback holds its address
  size_t parallel_load_min_orders = kParallelLoadMinOrders;
  SQLite::Database db;
  std::unique_ptr<SqliteSession> session;  // made by SqliteStore::sql()
};

// Reads table `models` (when present) into facts.models (load_models.cpp).
void load_model_rows(sqlite3* db, Facts& facts);

// Inserts a day's outbox rows (sqlite_outbox.cpp), read chunk by chunk from `rows`, inside the
// caller's transaction; returns the rows inserted (keys already present are skipped); `now`:
// their created_at.
size_t write_outbox(sqlite3* db, Days day, OutboxRows& rows, const std::string& now);

// Applies a day's tag changes (sqlite_outbox.cpp) in their order, inside the caller's
// transaction: a set is an INSERT OR IGNORE (set_at the day), an untag a DELETE.
void write_tags(sqlite3* db, Days day, const std::vector<TagChange>& tags);

}  // namespace crm::engine
