// crm import csv's entry (csv_import.hpp): opening the store of either backend, one transaction
// around the import (csv_import.cpp), and leaving nothing behind when it fails or is a dry run.
#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>

#include "engine/import/csv/csv_import.hpp"
#include "engine/store/pg_store.hpp"
#include "engine/store/sqlite_session.hpp"
#include "engine/store/sqlite_store.hpp"

namespace crm::import_csv {

std::string RowError::text() const {
  std::string s = file + ":" + std::to_string(line) + ": ";
  if (!column.empty()) s += "column '" + column + "' = '" + value + "': ";
  return s + message;
}

std::string quote_identifier(const std::string& name) {
  std::string q = "\"";
  for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

ImportReport import_csv(const std::string& db_path, const Mapping& mapping, const std::vector<std::string>& files,
                        const ImportOptions& options) {
  ImportReport report;
  if (engine::pg::is_uri(db_path)) {  // the same import, in one transaction of the PostgreSQL store
    auto store = engine::PgStore::open(db_path, /*create_if_missing=*/true);
    engine::SqlSession& db = store->sql();
    db.begin();
    try {
      import_into(db, mapping, files, options, report);
      if (options.dry_run) db.rollback();
      else db.commit();
    } catch (...) {
      db.rollback();
      throw;
    }
    return report;
  }
  bool existed = db_path == ":memory:" || std::filesystem::exists(db_path);
  report.created_store = !existed;
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.setBusyTimeout(engine::kBusyTimeoutMs);
    try {
      engine::ensure_schema(db);
    } catch (const SQLite::Exception& e) {
      throw engine::StoreError("'" + db_path + "' is not a crm store (" + e.what() + ")");
    }
    db.exec("PRAGMA cache_size = -262144");  // 256 MiB: the order lines' index stays in memory
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    engine::SqliteSession session(db.getHandle());
    import_into(session, mapping, files, options, report);
    if (!options.dry_run) tx.commit();
  } catch (...) {
    if (!existed) std::filesystem::remove(db_path);
    throw;
  }
  if (options.dry_run && !existed) std::filesystem::remove(db_path);
  return report;
}

}  // namespace crm::import_csv
