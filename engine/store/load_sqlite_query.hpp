// The SQLite side of the loader: a prepared statement over the raw C API (the loader reads
// millions of cells), a table's columns, row-count hints, and the SqliteSource the shared
// scans and Loader read through (load_scans.hpp, load_loader.hpp).
#pragma once
#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/store/load_extra.hpp"
#include "engine/store/store.hpp"

namespace crm::engine::loading {

// A prepared statement over the raw C API (the loader reads millions of cells).
class Query {
 public:
  Query(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Query() { sqlite3_finalize(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("cannot read the store: ") + sqlite3_errmsg(db_));
  }
  int type(int i) const { return sqlite3_column_type(stmt_, i); }
  bool null(int i) const { return type(i) == SQLITE_NULL; }
  int64_t i64(int i) const { return sqlite3_column_int64(stmt_, i); }
  double f64(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string_view text(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string_view();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// The columns of a table (empty when the table does not exist).
inline std::vector<ColumnInfo> table_columns(sqlite3* db, const std::string& table) {
  std::vector<ColumnInfo> cols;
  Query q(db, "PRAGMA table_info(\"" + table + "\")");
  while (q.step()) cols.push_back({std::string(q.text(1)), std::string(q.text(2))});
  return cols;
}

// An estimate of a table's rows from its rowid range (O(log n), unlike count(*) which reads the
// whole table), to reserve the loader's vectors; 0 when unknown or implausibly large.
inline size_t rows_hint(sqlite3* db, const std::string& table) {
  try {
    // Two subqueries: SQLite answers a lone min() or max() from the b-tree's edge, but reads
    // the whole table for an expression of both.
    std::string t = quote_ident(table);
    Query q(db, "SELECT (SELECT max(rowid) FROM " + t + ") - (SELECT min(rowid) FROM " + t + ") + 1");
    if (!q.step() || q.type(0) != SQLITE_INTEGER) return 0;
    int64_t n = q.i64(0);
    return n > 0 && n <= kMaxRowsHint ? static_cast<size_t>(n) : 0;
  } catch (const StoreError&) {
    return 0;  // a view or a WITHOUT ROWID table: no hint
  }
}

// The rowid that splits orders into two halves for the two threads; nullopt when the table
// has no rowid range (missing, empty, a view).
inline std::optional<int64_t> orders_middle(sqlite3* db) {
  try {
    Query q(db, "SELECT (SELECT min(rowid) FROM orders) / 2 + (SELECT max(rowid) FROM orders) / 2");
    if (!q.step() || q.type(0) != SQLITE_INTEGER) return std::nullopt;
    return q.i64(0);
  } catch (const StoreError&) {
    return std::nullopt;
  }
}

// What the shared scans and Loader read through: one SQLite connection.
struct SqliteSource {
  using Cursor = Query;
  // The outbox has no index on run_date since schema version 6 (Loader::load_outbox).
  static constexpr bool kOutboxByRunDate = false;
  sqlite3* db;
  // A shard run filters in the Loader, not in the SQL: here the database is in the process, and
  // SQLite's VM computes the hash (shard_sql) slower than C++ does (measured: docs/postgres.md).
  std::vector<ColumnInfo> columns(const std::string& table) { return table_columns(db, table); }
  Query query(const std::vector<ColumnInfo>& have, const std::string& table, const std::vector<std::string>& wanted,
              const std::string& tail = "") {
    return Query(db, select_sql(have, table, wanted, tail));
  }
  size_t rows_hint(const std::string& table) { return loading::rows_hint(db, table); }
  // " ORDER BY column" in bytewise order ("" when the table lacks it).
  std::string bytewise_order_by(const std::vector<ColumnInfo>& have, const std::string& column) {
    for (const ColumnInfo& c : have)
      if (c.name == column) return " ORDER BY " + quote_ident(column);
    return "";
  }
  std::optional<int64_t> orders_middle() { return loading::orders_middle(db); }
  // The halves of orders for two threads, each in rowid order like a full scan.
  std::string orders_below(int64_t middle) { return " WHERE rowid < " + std::to_string(middle); }
  std::string orders_from(int64_t middle) { return " WHERE rowid >= " + std::to_string(middle); }
};

}  // namespace crm::engine::loading
